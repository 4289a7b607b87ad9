"""retention: what a night leaves on disk, kept for a window of days and no longer."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from pydantic import Field

from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices, TriageModelStore
from nightshift.resources.vector_store import LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse


class RetentionConfig(dg.Config):
    keep_days: int = Field(default=14, description="Days (back from today) whose batch files and triage models are kept; "
                           "LanceDB versions older than this are cleaned up.")


def folder_bytes(uri: str) -> int | None:
    """Bytes under a local directory; None for an object-store URI, whose listing costs requests."""
    path = Path(uri).expanduser()
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if "://" not in uri and path.exists() else None


@dg.asset(group_name="nightly", kinds={"duckdb", "lancedb"}, pool="duckdb_writer")
@traced
def retention(context: dg.AssetExecutionContext, config: RetentionConfig, warehouse: DuckDBWarehouse, vectors: LanceDBStore,
              models: TriageModelStore, llm: LLMProvider, prices: Prices, answer_cache: AnswerCache) -> dg.MaterializeResult:
    """Deletes the provider's batch files of collected days older than `keep_days` (the ledger in DuckDB keeps every request
    and answer, so a rerun of such a day still works), the triage models no kept day uses (a rerun of a forgotten day
    retrains its model first), answer-cache entries past the cache's TTL (they never hit, yet every lookup scans them), and
    LanceDB versions older than the window (after compacting its tables). DuckDB rows are never deleted: they are the
    record of what each night cost and answered.
    """
    before = datetime.now(UTC).date() - timedelta(days=config.keep_days)
    files, batch_bytes = BatchLedger(warehouse.db, llm.providers(), prices.table()).delete_files(before)
    artifacts, model_bytes = models.store().prune(before.isoformat())
    expired = answer_cache.expire(datetime.now(UTC).replace(tzinfo=None))
    size_before = folder_bytes(vectors.uri)
    db = vectors.db()
    for name in db.table_names():
        db.open_table(name).optimize(cleanup_older_than=timedelta(days=config.keep_days))
    size_after = folder_bytes(vectors.uri)
    lance_bytes = size_before - size_after if size_before is not None and size_after is not None else 0
    context.log.info(f"kept from {before}: {files} batch files, {artifacts} model files removed, "
                     f"{(batch_bytes + model_bytes + lance_bytes) / 1e6:.1f} MB freed")
    return dg.MaterializeResult(metadata=typed({
        "kept_from": before.isoformat(), "keep_days": config.keep_days,
        "batch_files_deleted": files, "batch_bytes_freed": batch_bytes,
        "model_files_deleted": artifacts, "model_bytes_freed": model_bytes,
        "cache_entries_expired": expired, "lancedb_bytes_freed": lance_bytes, "bytes_freed": batch_bytes + model_bytes + lance_bytes,
    }))
