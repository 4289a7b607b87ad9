"""Where a home's warehouse is, from the environment: no Dagster, so the quick commands (query, report, trace) can
read it without loading the pipeline."""

from __future__ import annotations

import os

from nightshift.lib.home import Home
from nightshift.warehouse.lake import is_lake


def warehouse_location(home: Home) -> tuple[str, str | None]:
    """NIGHTSHIFT_WAREHOUSE=ducklake:postgres:dbname=... host=... puts the tables in a DuckLake that many processes and
    machines write, its Parquet files under NIGHTSHIFT_LAKE_DATA (a directory they all see, or s3://...; default
    $NIGHTSHIFT_HOME/lake); unset, they are in the home's DuckDB file. A catalog password belongs in PGPASSWORD or
    ~/.pgpass, never in the setting: the UI shows it. Returns the location and, for a lake, where its data goes."""
    location = os.environ.get("NIGHTSHIFT_WAREHOUSE") or str(home.warehouse)
    data = (os.environ.get("NIGHTSHIFT_LAKE_DATA") or str(home.root / "lake")) if is_lake(location) else None
    return location, data
