"""How long each stage of a day's night took, from the Dagster event log: the step that last materialized each stage's
asset for the day, from its start to its materialization. (The wait for the batches is the ledger's: submit to finish.)"""

from __future__ import annotations

import dagster as dg

# Column of daily_cost_and_quality -> the asset whose step is that stage.
STAGES = {"ingest_s": "raw_tickets", "embed_s": "ticket_embeddings", "triage_s": "ticket_triage",
          "submit_s": "synthesis_batches", "collect_s": "ticket_responses"}


def stage_seconds(instance: dg.DagsterInstance, day: str) -> dict[str, float | None]:
    """Seconds per stage for the partition ``day``; None for a stage not materialized for it (or run before events were kept)."""
    seconds: dict[str, float | None] = {}
    for column, asset in STAGES.items():
        found = instance.fetch_materializations(dg.AssetRecordsFilter(dg.AssetKey(asset), asset_partitions=[day]), limit=1).records
        seconds[column] = None
        if found:
            entry = found[0].event_log_entry
            started = instance.all_logs(entry.run_id, of_type=dg.DagsterEventType.STEP_START)
            # A chunked asset is a graph: its stage starts with its first op (its step keys are ``asset.op[chunk]``).
            inner = [e.timestamp for e in started if (e.step_key or "").startswith(f"{asset}.")]
            own = [e.timestamp for e in started if e.step_key == entry.step_key]
            start = min(inner) if inner else max(own) if own else None
            seconds[column] = round(entry.timestamp - start, 3) if start is not None else None
    return seconds
