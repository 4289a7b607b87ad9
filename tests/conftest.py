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


# Filled at collection; pytest_runtest_logstart runs outside output capture but is given only the test's id.
SLOW: set[str] = set()
REPORTER: list = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    SLOW.update(item.nodeid for item in items if item.get_closest_marker("slow"))
    if config.get_verbosity() <= 0:
        REPORTER[:] = [config.pluginmanager.get_plugin("terminalreporter")]


def pytest_runtest_logstart(nodeid: str, location: tuple) -> None:
    """A slow test says its name as it starts: some run for minutes, and a row of dots says nothing meanwhile."""
    if nodeid in SLOW and REPORTER and REPORTER[0] is not None:
        REPORTER[0].ensure_newline()
        REPORTER[0].write_line(f"{nodeid} (slow tier) ...")


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
