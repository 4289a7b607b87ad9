"""The Dagster instance the CLI records its runs in, so they show up in the UI."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from nightshift.lib.home import Home

# The repository's instance settings; present in a source checkout (the supported install is editable).
REPO = Path(__file__).resolve().parents[2]
REPO_DAGSTER_YAML = REPO / "dagster.yaml"
POSTGRES_YAML = REPO / "dagster-postgres.yaml"


PG_DRIVER = "postgresql+psycopg2://"


def instance_yaml() -> str:
    """dagster.yaml, plus the PostgreSQL storage block when DAGSTER_PG_URL is set (SQLite files otherwise)."""
    text = REPO_DAGSTER_YAML.read_text()
    url = os.environ.get("DAGSTER_PG_URL")
    if url:
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, whose server-side parameters break Dagster's NOTIFY.
        if not url.startswith(PG_DRIVER):
            raise ValueError(f"DAGSTER_PG_URL must start with {PG_DRIVER} (the driver Dagster's storage is built on)")
        text += "\n" + POSTGRES_YAML.read_text()
    return text


def dagster_home(home: Home) -> Path:
    """DAGSTER_HOME if set, else ``$NIGHTSHIFT_HOME/dagster`` with the repository's instance settings in it."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    target = home.dagster
    target.mkdir(parents=True, exist_ok=True)
    if REPO_DAGSTER_YAML.exists():
        (target / "dagster.yaml").write_text(instance_yaml())
    os.environ["DAGSTER_HOME"] = str(target)
    return target


def cli_instance(home: Home) -> dg.DagsterInstance:
    dagster_home(home)
    return dg.DagsterInstance.get()
