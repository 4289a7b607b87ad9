"""Jobs: what runs together for a day."""

from __future__ import annotations

import dagster as dg

from nightshift.assets.cache import cached_answers
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
    selection=[ticket_responses, cached_answers, daily_digest, daily_cost_and_quality],
    partitions_def=daily_partitions,
    description="Collect a day's finished batches into ticket_responses (retrying failed requests), add the answers that "
    "pass the checks to the cache, write its digest and its cost-and-quality row.",
)
