"""Day partitions: a partition is the UTC day on which the tickets were created."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from nightshift.lib.home import Home


def first_day(landing: Path) -> str:
    """The first partition: `NIGHTSHIFT_FIRST_DAY` when set, else the earliest day folder in the landing zone, else
    yesterday (a new deployment's first night). The UI then shows the days that exist, not years of empty ones."""
    if configured := os.environ.get("NIGHTSHIFT_FIRST_DAY"):
        return configured
    days = sorted(p.name for p in landing.glob("????-??-??") if p.is_dir() and is_day(p.name)) if landing.is_dir() else []
    return days[0] if days else (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


FIRST_DAY = first_day(Home.from_env().landing)

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")


def partition_day(context: dg.OpExecutionContext | dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> date:
    """The day an asset, an op of a chunked asset, or a check runs for."""
    return date.fromisoformat(context.partition_key)
