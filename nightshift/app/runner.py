"""Running a night from a process of our own: jobs in the instance, and the batch sensor ticked as the daemon would.

The CLI and the tests both drive the pipeline through here, so there is one sensor loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import dagster as dg
from dagster._core.definitions.job_base import IJob, InMemoryJob
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import create_execution_plan, execute_run
from dagster._core.execution.execute_in_process import merge_run_tags
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin

from nightshift.app.instance import CODE_LOCATION
from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.executors import CELERY

# Runs keep their full event log in the instance; the terminal shows progress, warnings and the summary.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}

Result = TypeVar("Result")

# The repository the UI loads from the code location (a Definitions object is its single repository).
REPOSITORY = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin(CODE_LOCATION), SINGLETON_REPOSITORY_NAME)
# The same code location as a worker in another process loads it.
CODE_LOCATION_MODULE = ReconstructableRepository.for_module("nightshift.definitions", "defs")


class RunFailed(Exception):
    pass


def execute(job: dg.JobDefinition, partition_key: str, instance: dg.DagsterInstance, tags: dict) -> dg.ExecutionResult:
    """Run a job for one partition in this process, recorded as a run of the `nightshift` code location.

    `execute_in_process` would swap in its own executor and IO manager, which makes a job of another version, and
    record no code location: the UI would leave the run off its timeline and warn on re-execute. So the run is
    created as a launched run is (the job's own definition, the location's origin) and executed here, the way a
    run worker executes it, with the job's executor set to in-process.

    With Celery as the jobs' executor, this process only orchestrates: each step goes to a worker, which rebuilds the
    job from the code location's module (nightshift.definitions, in its own environment).
    """
    on_workers = job.executor_def.name == CELERY
    run_config = QUIET_RUN if on_workers else {**QUIET_RUN, "execution": {"config": {"in_process": {}}}}
    target: IJob = CODE_LOCATION_MODULE.get_reconstructable_job(job.name) if on_workers else InMemoryJob(job)
    run = instance.create_run_for_job(
        job_def=job, run_config=run_config,
        execution_plan=create_execution_plan(
            target, run_config=run_config, instance_ref=instance.get_ref() if instance.is_persistent else None),
        tags=merge_run_tags(job, partition_key, {"nightshift/launched_by": "cli", **tags}, None, instance, run_config),
        remote_job_origin=REPOSITORY.get_job_origin(job.name),
    )
    result = execute_run(target, run, instance)
    if not result.success:
        raise RunFailed(f"{job.name} run {result.run_id} for {partition_key} failed; see `nightshift dev` or the logs above")
    return result


def drain_batches(
    defs: dg.Definitions, run: Callable[[dg.RunRequest], Result], instance: dg.DagsterInstance | None = None,
    tick_s: float = 1.0, timeout_s: float | None = None,
) -> list[Result]:
    """Tick batch_sensor until no batch is open, handing each run it requests (once per run key) to ``run``."""
    sensor, resources = defs.resolve_sensor_def("batch_sensor"), defs.resources or {}
    ledger = BatchLedger(resources["warehouse"].db, None, resources["prices"].table())
    deadline = time.monotonic() + timeout_s if timeout_s else None
    cursor, seen, results = None, set(), []
    while ledger.open_batches():
        if deadline and time.monotonic() > deadline:
            raise TimeoutError(f"batches still open after {timeout_s} s")
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources, definitions=defs) as context:
            tick = sensor.evaluate_tick(context)
        cursor = tick.cursor or cursor
        requests = [r for r in tick.run_requests or [] if r.run_key not in seen]
        for request in requests:
            seen.add(request.run_key)
            results.append(run(request))
        if not requests:
            time.sleep(tick_s)  # between ticks, as the daemon waits between them
    return results


def run_days(defs: dg.Definitions, instance: dg.DagsterInstance, job_name: str, days: list[date], collect: bool = False,
             on_day: Callable[[date, str], None] = lambda day, step: None) -> list[dict]:
    """Run a day-partitioned job (with its asset checks) for each day, in the instance; one summary per day.

    With ``collect``, after each day the batch sensor is ticked and the collection runs it requests are executed,
    until none of the day's batches is open: later days then find the earlier days' answers in the cache.
    """
    job, collect_job = defs.resolve_job_def(job_name), defs.resolve_job_def("collect_job")
    summaries = []
    for day in days:
        on_day(day, job_name)
        results = [execute(job, day.isoformat(), instance, {})]
        if collect:
            on_day(day, "waiting for the batches")
            results += drain_batches(defs, lambda r: execute(collect_job, str(r.partition_key), instance,
                                                             {**r.tags, "dagster/run_key": r.run_key}), instance)
        summary: dict[str, Any] = {"day": day.isoformat(), "run_id": results[0].run_id}
        resources = defs.resources or {}
        # The day's checks as last evaluated by any run, this one or an earlier (the same figures `report` shows).
        last = resources["warehouse"].reports.checks_of(day)
        warned = [c["check_name"] for c in last if not c["passed"] and c["severity"] == dg.AssetCheckSeverity.WARN.value]
        failed = [c["check_name"] for c in last if not c["passed"] and c["check_name"] not in warned]
        for result in results:
            for event in result.get_asset_materialization_events():
                summary.update({k: v.value for k, v in event.materialization.metadata.items()
                                if isinstance(v.value, (int, float, str)) and not k.startswith("dagster/")})
        if collect:
            # From the warehouse, not this run's metadata: a rerun that asks nothing new still reports the day whole.
            answered = resources["warehouse"].answers.summary(day)
            summary.update({k: answered[k] for k in ("status_ok", "status_failed")})
            summary.update(BatchLedger(resources["warehouse"].db, None, resources["prices"].table()).day_totals(day))
        counts = [f"{len(names)} {kind}" for kind, names in (("failed", failed), ("warned", warned)) if names]
        summary["checks"] = ", ".join(counts) or "passed"
        summary["check_problems"] = ", ".join([*failed, *(f"{name} (warning)" for name in warned)])
        summaries.append(summary)
    return summaries
