"""The Dagster instance the CLI records its runs in, so they show up in the UI."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg
import sqlalchemy.exc
import yaml

from nightshift.lib.home import Home
from nightshift.warehouse.lake import is_lake

# nightshift's instance settings ship inside the package, so a plain `pip install .` has them too, and a
# dagster.yaml in the working directory never competes with the instance's own.
DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")
POSTGRES_YAML = Path(__file__).with_name("dagster-postgres.yaml")


# The code location's name wherever it is loaded: here, and [tool.dg.project] in pyproject.toml for `dg dev`.
CODE_LOCATION = "nightshift"

PG_DRIVER = "postgresql+psycopg2://"


def instance_yaml() -> str:
    """dagster.yaml, plus the PostgreSQL storage block when DAGSTER_PG_URL is set (SQLite files otherwise)."""
    text = DAGSTER_YAML.read_text()
    url = os.environ.get("DAGSTER_PG_URL")
    if url:
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, whose server-side parameters break Dagster's NOTIFY.
        if not url.startswith(PG_DRIVER):
            raise ValueError(f"DAGSTER_PG_URL must start with {PG_DRIVER} (the driver Dagster's storage is built on)")
        text += "\n" + POSTGRES_YAML.read_text()
    return text


def dagster_home(home: Home) -> Path:
    """DAGSTER_HOME if set, else ``$NIGHTSHIFT_HOME/dagster``; made if missing. A folder without a dagster.yaml gets
    nightshift's instance settings (telemetry off, the run queue, concurrency pools); one with its own keeps it."""
    chosen = os.environ.get("DAGSTER_HOME")
    target = Path(chosen) if chosen else home.dagster
    target.mkdir(parents=True, exist_ok=True)
    settings = target / "dagster.yaml"
    if not chosen or not settings.exists():
        settings.write_text(instance_yaml())
    os.environ["DAGSTER_HOME"] = str(target)
    return target


def write_workspace(dagster_dir: Path) -> Path:
    """A workspace.yaml that loads nightshift.definitions as the code location CODE_LOCATION, with this interpreter."""
    path = dagster_dir / "workspace.yaml"
    path.write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "nightshift.definitions", "location_name": CODE_LOCATION, "executable_path": sys.executable}}]}))
    return path


def cli_instance(home: Home, attempts: int = 5) -> dg.DagsterInstance:
    dagster_home(home)
    # Processes started at once on a new PostgreSQL database (workers, the CLI) race to create the instance's tables and
    # the writer pool's row, and all but one fail; they find them made when they try again.
    for attempt in range(1, attempts):
        try:
            return prepared_instance()
        except sqlalchemy.exc.DBAPIError:
            time.sleep(attempt)
    return prepared_instance()


def prepared_instance() -> dg.DagsterInstance:
    instance = dg.DagsterInstance.get()
    try:
        set_writer_pool(instance)
    except Exception:
        instance.dispose()
        raise
    return instance


WRITER_POOL = "duckdb_writer"


def set_writer_pool(instance: dg.DagsterInstance) -> None:
    """How many steps may write the warehouse at once: one for a DuckDB file (it takes one writer), and
    NIGHTSHIFT_LAKE_WRITERS (default 4) for a lake, which takes many. The other pools stay at dagster.yaml's limit."""
    lake = is_lake(os.environ.get("NIGHTSHIFT_WAREHOUSE", ""))
    slots = int(os.environ.get("NIGHTSHIFT_LAKE_WRITERS", "4")) if lake else 1
    if instance.event_log_storage.get_concurrency_info(WRITER_POOL).slot_count != slots:
        instance.event_log_storage.set_concurrency_slots(WRITER_POOL, slots)
