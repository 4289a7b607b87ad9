import os
from datetime import date
from pathlib import Path

import pytest

# Set before nightshift's definitions are imported: the tests' days span years, and without it the first partition would
# be the first landing day of whatever home the environment names.
os.environ.setdefault("NIGHTSHIFT_FIRST_DAY", "2020-01-01")

from nightshift.app.settings import resources_for
from nightshift.ingest.samples import write_days
from nightshift.lib.home import Home

SAMPLE_START = date(2026, 11, 1)
SAMPLE_DAYS = [date(2026, 11, d).isoformat() for d in (1, 2, 3)]  # one JSONL, one Parquet, one CSV day


def shared_data() -> Path:
    """../shared/data beside the repository (the public data sets; never copied into the repo)."""
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    monkeypatch.setenv("NIGHTSHIFT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    return Home(tmp_path / "home")


@pytest.fixture
def sample_home(home) -> Home:
    write_days(home.landing, SAMPLE_START, len(SAMPLE_DAYS))
    return home


@pytest.fixture
def resources(home):
    return resources_for(home, mapping="")
