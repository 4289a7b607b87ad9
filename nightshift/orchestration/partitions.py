"""Day partitions: a partition is the UTC day on which the tickets were created."""

from __future__ import annotations

import os
from datetime import date

import dagster as dg

# The earliest day the UI offers; override for older history (Hadoop's Jira export starts in 2020).
FIRST_DAY = os.environ.get("NIGHTSHIFT_FIRST_DAY", "2020-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")


def partition_day(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> date:
    """The day an asset or a check runs for."""
    return date.fromisoformat(context.partition_key)
