"""Jobs and the nightly schedule."""

from __future__ import annotations

import dagster as dg

from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
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
    selection=[raw_tickets, ticket_embeddings, triage_model, ticket_triage],
    partitions_def=daily_partitions,
    description="A day end to end: ingest, embed, retrain the triage model on history up to that day, route.",
)

# A daily-partitioned job's schedule targets the last complete day: at 02:00 UTC, yesterday.
nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, minute_of_hour=0, name="nightly"
)
