"""The batch sensor: polls open batches recorded in DuckDB and requests the run that collects a day."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC

import dagster as dg

from nightshift.lib.clock import utcnow
from nightshift.lib.words import plural
from nightshift.llm.engine import TERMINAL
from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.jobs import collect_job
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse

# Dagster gives a sensor tick 60 s; polling stops in time to return what it found.
TICK_BUDGET_S = 40.0


def rotated(batches: list[dict], after: str | None) -> list[dict]:
    """Start after the batch polled last, so a tick that ran out of time does not starve the rest."""
    ids = [b["batch_id"] for b in batches]
    start = ids.index(after) + 1 if after in ids else 0
    return batches[start:] + batches[:start]


@dg.sensor(
    job=collect_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
    description="Polls every batch not yet collected; when all of a day's batches are finished, requests collect_job "
    "for that day. With deadlines set (NIGHTSHIFT_DEADLINES), a batch that will miss its route's deadline is cancelled, and "
    "the collection asks its unanswered requests synchronously. Its cursor is the batch polled last; the batches live in "
    "DuckDB llm_batches, so a restart loses nothing.",
)
def batch_sensor(
    context: dg.SensorEvaluationContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices
) -> dg.SensorResult | dg.SkipReason:
    ledger = BatchLedger(warehouse.db, llm.providers(), prices.table())
    batches = ledger.open_batches()
    if not batches:
        return dg.SkipReason("no open batches")
    deadline, deadlines = time.monotonic() + TICK_BUDGET_S, llm.deadline_policy()
    status, last, rescued = {b["batch_id"]: b["status"] for b in batches}, context.cursor, []
    for batch in rotated(batches, context.cursor):
        if time.monotonic() > deadline:
            break
        if batch["status"] not in TERMINAL:
            status[batch["batch_id"]] = ledger.poll(batch).status
            last = batch["batch_id"]
        late = deadlines and batch["rescued_at"] is None and deadlines.late(
            batch["day"], batch["routes"], batch["submitted_at"], status[batch["batch_id"]], utcnow().replace(tzinfo=UTC))
        if late:
            status[batch["batch_id"]] = ledger.rescue({**batch, "status": status[batch["batch_id"]]}).status
            rescued.append(batch["batch_id"])
    by_day: dict[str, list[str]] = defaultdict(list)
    for batch in batches:
        by_day[batch["day"].isoformat()].append(batch["batch_id"])
    requests = [
        dg.RunRequest(run_key="+".join(sorted(ids)), partition_key=day, tags={"nightshift/batches": ",".join(sorted(ids))})
        for day, ids in sorted(by_day.items()) if all(status[i] in TERMINAL for i in ids)
    ]
    waiting = sum(s not in TERMINAL for s in status.values())
    context.log.info(f"{plural(len(batches), 'open batch', 'open batches')}, {waiting} in flight, "
                     f"{plural(len(requests), 'day')} ready to collect"
                     + (f"; cancelled to meet the deadline: {', '.join(rescued)}" if rescued else ""))
    return dg.SensorResult(run_requests=requests, cursor=last)
