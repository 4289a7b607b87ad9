"""The code location of a home: assets and checks found by scanning their packages, jobs, schedule, sensor, resources.

A new module in assets/ or checks/ is in the graph without a list to edit.
"""

from __future__ import annotations

import dagster as dg

from nightshift import assets, checks
from nightshift.app.settings import resources_for
from nightshift.lib.home import Home
from nightshift.orchestration.executors import jobs_executor
from nightshift.orchestration.jobs import collect_job, ingest_job, maintenance_job, nightly_job
from nightshift.orchestration.schedules import maintenance_schedule, nightly_schedule
from nightshift.orchestration.sensors import batch_sensor


def build_definitions(home: Home, mapping: str | None = None) -> dg.Definitions:
    """The code location for a home; the CLI builds it with its own --map. With NIGHTSHIFT_CELERY_BROKER set, every
    job's steps run on Celery workers (nightshift worker)."""
    return dg.Definitions(
        executor=jobs_executor(),
        assets=dg.load_assets_from_package_module(assets),
        asset_checks=dg.load_asset_checks_from_package_module(checks),
        jobs=[ingest_job, nightly_job, collect_job, maintenance_job],
        schedules=[nightly_schedule, maintenance_schedule],
        sensors=[batch_sensor],
        resources=resources_for(home, mapping),
    )
