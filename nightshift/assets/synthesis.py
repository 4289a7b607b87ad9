"""synthesis_batches: the day's requests go out, one batch per model; realtime tickets are answered now."""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import TypeVar

import dagster as dg
import numpy as np

from nightshift.assets.triage import ticket_triage
from nightshift.lib.stats import wilson
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.pricing import PriceTable, spend_summary
from nightshift.llm.requests import (
    DIGEST,
    REPLY,
    SAFETY,
    SHADOW,
    Request,
    digest_request,
    reply_requests,
    safety_requests,
    shadow_requests,
)
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality.estimate import nightly_sample, signal_correlation
from nightshift.quality.sampling import SHADOWED_ROUTES, rank, shadow_sample
from nightshift.quality.signals import score
from nightshift.reporting import themes
from nightshift.resources.llm import PROVIDER_RETRY, LLMProvider, permanent_errors_fail_fast
from nightshift.resources.models import Prices
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import BLOCK, span

T = TypeVar("T")

def find_material(warehouse: DuckDBWarehouse, vectors: LanceDBStore, day: date, labels: list[dict]) -> dict:
    """The day's clusters (found on a fixed sample of its tickets) and the categories that rose against the trailing week:
    what the digest is written from. ``labels`` are the day's tickets with their category."""
    picked = sorted(labels, key=lambda r: rank(r["ticket_id"]))[:themes.SAMPLE]
    by_id = vectors.vectors_of(EMBEDDINGS, [r["ticket_id"] for r in picked])
    rows = [r for r in picked if r["ticket_id"] in by_id]
    if not rows:
        return themes.as_row(day, 0, [], [])
    ids = [r["ticket_id"] for r in rows]
    texts = warehouse.tickets.texts_of(day, ids)
    found = themes.themes(np.stack([by_id[i] for i in ids]), ids, [texts[i] for i in ids], [r["category"] for r in rows], len(labels))
    trailing = warehouse.triage.category_counts(day - timedelta(days=themes.TRAILING_DAYS), day)
    return themes.as_row(day, len(labels), found, themes.spikes(Counter(r["category"] for r in labels), trailing))


def day_requests(warehouse: DuckDBWarehouse, day: date, table: PriceTable, shadowed: set[str], screened: list[dict],
                 digest: Request | None) -> Iterator[Request]:
    """Every request the day makes, a block of tickets at a time: replies with their passages, the shadows of the sampled
    tickets, the safety verdicts and the digest."""
    for block in warehouse.triage.triaged_blocks(day, BLOCK):
        passages = warehouse.context.passages(day, span(block))
        yield from reply_requests(block, table, passages)
        yield from shadow_requests([r for r in block if r["ticket_id"] in shadowed], table, passages)
    yield from safety_requests(screened, table)
    if digest is not None:
        yield digest


def counting(items: Iterable[T], counts: Counter, key: Callable[[T], str]) -> Iterator[T]:
    """Passes the items through, counting them under ``key``: the requests and the plan stream, so nothing holds them."""
    for item in items:
        counts[key(item)] += 1
        yield item


def sample_sizes(warehouse: DuckDBWarehouse, day: date, labels: list[dict], quality: QualityPolicy) -> dict[str, int]:
    """Per cheap route, how many of tonight's answers to judge (estimate.nightly_sample), from the window's other days'
    verdicts and the signals' correlation with them."""
    evidence = warehouse.quality.evidence(day - timedelta(days=quality.window_days), day - timedelta(days=1), judged_only=True)
    wanted = {}
    for route in SHADOWED_ROUTES:
        rows = [a for a in evidence if a["route"] == route]
        verdicts = [int(a["agrees"]) for a in rows]
        correlation = signal_correlation([score(a) for a in rows], verdicts) if rows else 0.0
        tonight = sum(r["route"] == route for r in labels)
        wanted[route] = nightly_sample(wilson(sum(verdicts), len(verdicts)), correlation, tonight * quality.window_days,
                                       quality.half_width, quality.target, quality.window_days)
    return wanted


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_triage],
    group_name="nightly",
    kinds={"openai", "duckdb"},
    pool="llm_provider",
    retry_policy=PROVIDER_RETRY,
)
@traced
def synthesis_batches(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, llm: LLMProvider, prices: Prices,
    quality: QualityPolicy,
) -> dg.MaterializeResult:
    """Submits the day's reply requests (one batch per model, with the digest) and records them in DuckDB `llm_batches`.
    Each reply request quotes the ticket's passages from `ticket_context`, and its answer must cite only those.

    A sample of the cache and small-model tickets goes to the frontier model too (shadow requests, in its batch), for the
    judge. The safety classifier's requests for the flagged and sampled tickets go to the small model's batch. Realtime
    tickets are answered synchronously, at full price. Nothing is sent twice: answered requests are reused.
    """
    with permanent_errors_fail_fast():
        day = partition_day(context)
        table = prices.table()
        ledger = BatchLedger(warehouse.db, llm.providers(), table)
        in_flight = ledger.open_batches(day)
        if in_flight:
            # A second submission would pay twice for the same answers; the sensor will collect these.
            context.log.warning(f"{len(in_flight)} batches of {day} are still open; nothing submitted")
            return dg.MaterializeResult(metadata=typed({"submitted_batches": 0, "open_batches": len(in_flight),
                                                  "batch_ids": ", ".join(b["batch_id"] for b in in_flight)}))
        labels = warehouse.triage.labels(day)
        wanted = sample_sizes(warehouse, day, labels, quality)
        shadowed = {r["ticket_id"] for r in shadow_sample(labels, quality.shadow_share, quality.shadow_min, quality.shadow_max or None, wanted)}
        material = find_material(warehouse, vectors, day, labels)
        warehouse.answers.replace_material(day, material)
        found, rising, n = themes.from_row(material)
        digest = digest_request(day.isoformat(), *themes.describe(found, rising), table) if n else None
        made: Counter[str] = Counter()
        sent: Counter[str] = Counter()
        requests = counting(day_requests(warehouse, day, table, shadowed, warehouse.safety.to_classify(day), digest), made,
                            lambda request: request.kind)
        todo = ledger.plan(day, requests, (REPLY, DIGEST, SHADOW, SAFETY))
        answered, states = ledger.send(day, counting(todo, sent, lambda planned: planned[0].model if planned[0].mode == "batch" else "now"))
        per_model = {model: count for model, count in sent.items() if model != "now"}
        metadata = {
            "requests": made.total(),
            "reused": made.total() - sent.total(),
            "shadow_requests": made[SHADOW],
            **{f"shadow_wanted_{route}": count for route, count in wanted.items()},
            "safety_requests": made[SAFETY],
            "submitted_requests": sum(per_model.values()),
            "submitted_batches": len(states),
            **{f"requests_{model}": count for model, count in sorted(per_model.items())},
            "realtime_answered": sum(o["status"] == "ok" for o in answered),
            "realtime_failed": sum(o["status"] != "ok" for o in answered),
            # What this materialization spent (the realtime answers); batch $ are counted when collected.
            **spend_summary(answered),
            # Who answers each route: its model's provider (OpenAI's models through NIGHTSHIFT_LLM: openai or local).
            "providers": ", ".join(f"{route} {model} ({table.provider_of(model)})" for route, model in sorted(table.routes.items())),
            "provider": llm.provider,
            "batch_ids": ", ".join(s.id for s in states) or "none",
        }
        context.log.info(f"{day}: {metadata['submitted_requests']} requests in {len(states)} batches, {len(answered)} answered now")
        return dg.MaterializeResult(metadata=typed(metadata))
