"""Jobs: what runs together for a day, as selections around the point where the batches leave.

Everything up to and including synthesis_batches is the night; everything after it waits for the batches and is
collected when batch_sensor sees them finish. The selections follow the graph, so a new asset joins the right job.
"""

from __future__ import annotations

import dagster as dg

from nightshift.orchestration.partitions import daily_partitions

SUBMIT = dg.AssetSelection.assets("synthesis_batches")

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets("ticket_embeddings").upstream(),
    partitions_def=daily_partitions,
    description="Ingest a day of landing-zone tickets into DuckDB and embed them into LanceDB.",
)

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=SUBMIT.upstream(),
    partitions_def=daily_partitions,
    description="A night's work for a day: ingest, embed, retrain the triage model on history up to that day, route, "
    "and submit the batches (batch_sensor requests collect_job when they finish).",
)

collect_job = dg.define_asset_job(
    "collect_job",
    selection=SUBMIT.downstream() - SUBMIT,
    partitions_def=daily_partitions,
    description="Collect a day's finished batches into ticket_responses (retrying failed requests), add the answers that "
    "pass the checks to the cache, write its digest and its cost-and-quality row.",
)

maintenance_job = dg.define_asset_job(
    "maintenance_job",
    selection=dg.AssetSelection.assets("retention"),
    description="Delete what the nights no longer need: batch files and triage models older than the retention window, and "
    "old LanceDB versions. DuckDB's record of every night stays.",
)
