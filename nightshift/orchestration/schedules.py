"""The schedules: yesterday's partition of nightly_job at a fixed UTC time, and the weekly maintenance."""

from __future__ import annotations

import os
import re

import dagster as dg

from nightshift.orchestration.jobs import maintenance_job, nightly_job

DEFAULT_AT = "02:00"


def nightly_schedule_at(at: str) -> dg.ScheduleDefinition | dg.UnresolvedPartitionedAssetScheduleDefinition:
    """A daily-partitioned job's schedule targets the last complete day: at `at` (HH:MM, UTC), yesterday's partition."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at.strip())
    if not match:
        raise ValueError(f"NIGHTSHIFT_NIGHTLY_AT must be HH:MM in UTC, e.g. 02:00; got {at!r}")
    return dg.build_schedule_from_partitioned_job(
        nightly_job, hour_of_day=int(match[1]), minute_of_hour=int(match[2]), name="nightly",
        description=f"Every day at {int(match[1]):02d}:{match[2]} UTC, nightly_job for yesterday's partition: ingest, embed, triage, "
                    "submit the batches (batch_sensor collects them). Set the time with NIGHTSHIFT_NIGHTLY_AT.",
        # On as soon as a daemon runs: the point of nightshift is that nobody has to remember.
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )


nightly_schedule = nightly_schedule_at(os.environ.get("NIGHTSHIFT_NIGHTLY_AT", DEFAULT_AT))

# Sundays at 05:00 UTC, when the week's nights are long collected.
maintenance_schedule = dg.ScheduleDefinition(
    job=maintenance_job, cron_schedule="0 5 * * 0", name="weekly_maintenance", default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Sundays at 05:00 UTC, maintenance_job: old batch files, unused triage models, expired answer-cache entries and "
                "old LanceDB versions are deleted; DuckDB rows never are.",
)
