"""Jobs and the nightly schedule."""

from __future__ import annotations

import dagster as dg

from nightshift.assets.digest import daily_digest
from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.assets.reports import daily_cost_and_quality
from nightshift.assets.responses import ticket_responses
from nightshift.assets.synthesis import synthesis_batches
from nightshift.assets.triage import ticket_triage, triage_model
from nightshift.orchestration.partitions import daily_partitions

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=[raw_tickets, ticket_embeddings],
    partitions_def=daily_partitions,
    description="Ingest a day of landing-zone tickets into DuckDB and embed them into LanceDB.",
)

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=[raw_tickets, ticket_embeddings, triage_model, ticket_triage, synthesis_batches],
    partitions_def=daily_partitions,
    description="A night's work for a day: ingest, embed, retrain the triage model on history up to that day, route, "
    "and submit the batches (batch_sensor requests collect_job when they finish).",
)

collect_job = dg.define_asset_job(
    "collect_job",
    selection=[ticket_responses, daily_digest, daily_cost_and_quality],
    partitions_def=daily_partitions,
    description="Collect a day's finished batches into ticket_responses (retrying failed requests), write its digest "
    "and its cost-and-quality row.",
)

# A daily-partitioned job's schedule targets the last complete day: at 02:00 UTC, yesterday.
nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, minute_of_hour=0, name="nightly"
)
