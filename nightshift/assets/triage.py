"""triage_model (trained on labelled history) and ticket_triage (the day's routes)."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import dagster as dg
import numpy as np

from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.knowledge import ticket_context
from nightshift.lib.markdown import markdown_table
from nightshift.lib.tokens import count_tokens
from nightshift.llm import prompts
from nightshift.llm.pricing import expected_cost, frontier_sync_cost
from nightshift.observability import tracing
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.models import Prices, TriageModelStore
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.safety import SafetyPolicy
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.safety import screening
from nightshift.triage import routing
from nightshift.triage.artifact import fingerprint, train
from nightshift.triage.cache_serving import Match, Record, serves
from nightshift.triage.tightening import gate, gate_probes, tighten


@dg.asset(partitions_def=daily_partitions, deps=[ticket_embeddings], group_name="nightly", kinds={"scikitlearn", "lancedb"})
@traced
def triage_model(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore,
    embedder: EmbedderResource, models: TriageModelStore,
) -> dg.MaterializeResult:
    """Category and priority classifier on a bounded window of history up to this day (per label, the latest
    `per_label` tickets of the last `window_days` days), with held-out accuracy and cache threshold.

    Versioned by a fingerprint of the window. The day before's model is kept while less than `retrain_share` of the
    window is new to it and the labels are the same, so a night's training cost does not grow with history.
    """
    day = partition_day(context)
    window = models.window()
    tickets = warehouse.tickets.training_window(day, window.per_label, window.days)
    by_id = vectors.vectors_of(EMBEDDINGS, [t["ticket_id"] for t in tickets])
    tickets = [t for t in tickets if t["ticket_id"] in by_id]
    column = lambda name: [t[name] for t in tickets]  # noqa: E731
    version = fingerprint(column("ticket_id"), column("text_hash"), column("label"), column("priority"))
    store = models.store()
    previous = store.for_day((day - timedelta(days=1)).isoformat())
    labels = {label for label in column("label") if label}
    change = (window.retrain_reason(column("ticket_id"), labels, set(previous.known_ids), previous.labels) if previous
              else "no model for the day before")
    if store.has(version):
        model, trained, why = store.load(version), False, "the same window as a saved model"
    elif previous and change is None:
        model, trained, why = previous, False, f"under {window.retrain_share:.0%} of the window is new to the day before's model"
    else:
        matrix = np.stack([by_id[t["ticket_id"]] for t in tickets]) if tickets else np.zeros((0, 384), np.float32)
        model = train(column("ticket_id"), column("text_redacted"), matrix, column("label"), column("priority"),
                      version, embedder.embedder.embed)
        store.save(model)
        trained, why = True, str(change)
    store.assign(day.isoformat(), model.version)
    context.log.info(f"triage model {model.version}: {model.mode}, {'trained' if trained else 'reused'}: {why}")
    numeric = {k: v for k, v in model.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return dg.MaterializeResult(
        metadata=typed({"version": model.version, "mode": model.mode, "trained": int(trained), "why": why,
                  "window_tickets": len(tickets), "per_label": window.per_label, "window_days": window.days, **numeric})
    )


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_embeddings, triage_model, ticket_context],
    group_name="nightly",
    kinds={"duckdb"},
    pool="duckdb_writer",
)
@traced
def ticket_triage(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore,
    answer_cache: AnswerCache, models: TriageModelStore, prices: Prices, quality: QualityPolicy, knowledge: KnowledgeBase,
    safety: SafetyPolicy,
) -> dg.MaterializeResult:
    """Each ticket's category, priority, confidence and route (cache, small_model, frontier, realtime) with its reason.

    A cheap route whose judged agreement over the days before was under target gets a tighter knob tonight (a higher
    cache threshold or minimum confidence); the tickets that moved say so in their reason. With a knowledge base, a
    ticket without a passage above the retrieval floor goes to the frontier model, never to the small model or the cache.
    Every ticket passes the safety pre-filter first (DuckDB `ticket_safety`): a flagged one goes to needs_human, and no
    model answers it. At most `realtime_cap` of the day goes realtime; the overflow waits for the frontier batch.
    Also the day's expected $ under this routing against every ticket sent synchronously to the frontier model.
    """
    day = partition_day(context)
    model = models.store().for_day(day.isoformat())
    if model is None:
        raise dg.Failure(f"No triage model for {day}: materialize triage_model for that day first.")
    tickets = warehouse.tickets.to_triage(day)
    by_id = vectors.vectors(EMBEDDINGS, day)
    missing = [t["ticket_id"] for t in tickets if t["ticket_id"] not in by_id]
    if missing:
        raise dg.Failure(f"{len(missing)} tickets of {day} have no embedding (e.g. {missing[0]}): rematerialize ticket_embeddings.")
    table = prices.table()
    passages = warehouse.context.passage_counts(day) if knowledge.enabled() else None
    ids = [t["ticket_id"] for t in tickets]
    texts = [t["text_redacted"] for t in tickets]
    matrix = np.stack([by_id[i] for i in ids]) if ids else np.zeros((0, 384), np.float32)
    category, priority = model.predict(texts, matrix)
    known = model.nearest_known(matrix, ids)
    cached = answer_cache.lookup(matrix, prompts.SUPPORT_REPLY, sorted(set(table.routes.values())), datetime.now(UTC).replace(tzinfo=None),
                                 before=day)
    window, days = day - timedelta(days=quality.window_days + 1), f"over the {quality.window_days} days before"
    config = tighten(routing.RoutingConfig(cache_threshold=model.cache_threshold), warehouse.quality.agreement(window, day - timedelta(days=1)),
                     quality.bounds(), days)
    by_category = warehouse.quality.agreement_by_category(window, day - timedelta(days=1))
    config = gate(config, by_category, quality.bounds(), days)
    # Which entries may serve: their category, and their record of judged serves on earlier days.
    judged = warehouse.quality.cache_records(sorted({m.entry_id for m in cached if m}), before=day)
    served = serves([Match(m.entry_id, m.similarity, m.category) if m else None for m in cached], category.labels,
                    {m.entry_id: Record(m.trust, *judged.get(m.entry_id, (0, 0))) for m in cached if m}, config.cache_threshold,
                    answer_cache.probes)

    screened = screening.screen_tickets(texts)
    flagged = [screening.describe(s.held) or None for s in screened]
    given = [ticket["priority"] for ticket in tickets]
    prios = [given[i] or (priority.labels[i] if priority else None) for i in range(len(tickets))]
    tokens = [count_tokens(text) for text in texts]
    signals = [routing.Signals(
        questions=routing.question_count(ticket["body"]), category=category.labels[i],
        confidence=float(category.confidence[i]), priority=prios[i], tokens=tokens[i], nearest_known=float(known[i]),
        cache_similarity=serve.similarity if (serve := served[i]) else None, cache_category=serve.category if serve else None,
        cache_probe=bool(serve and serve.probe),
        passages=None if passages is None else passages.get(ticket["ticket_id"], 0), safety=flagged[i],
    ) for i, ticket in enumerate(tickets)]
    decisions = routing.cap_realtime([routing.route(s, config) for s in signals], [bool(g) for g in given], safety.realtime_cap)
    probes = gate_probes(signals, ids, config, by_category, quality.bounds())
    decisions = [probes.get(i, d) for i, d in enumerate(decisions)]

    rows, found = [], []
    for i, (ticket, decision) in enumerate(zip(tickets, decisions)):
        match, serve = cached[i], served[i]
        found.append({"ticket_id": ticket["ticket_id"], "day": day, "prefilter": flagged[i],
                      "noted": screening.describe(screened[i].noted) or None, "injection_score": screened[i].injection_score,
                      "sampled": not flagged[i] and (screened[i].review or screening.in_sample(ticket["ticket_id"], safety.sample_share))})
        rows.append({
            "ticket_id": ticket["ticket_id"], "day": day, "category": category.labels[i],
            "confidence": float(category.confidence[i]), "priority": prios[i],
            "priority_source": "ticket" if given[i] else ("model" if prios[i] else None),
            "route": decision.route, "reason": decision.reason,
            "cache_ticket_id": match.source_ticket_id if match else None,
            "cache_similarity": match.similarity if match else None, "nearest_known": float(known[i]),
            "input_tokens": tokens[i], "expected_usd": expected_cost(table, decision.route, tokens[i]),
            "model_version": model.version, "cache_entry_id": match.entry_id if match else None,
            "cache_probe": decision.route == routing.CACHE and bool(serve and serve.probe),
            "cache_judged": serve.judged if serve else None, "gate_probe": i in probes,
        })
    warehouse.triage.replace_day(day, rows, found)
    tracing.tickets("triage", rows, ("category", "confidence", "route", "reason"))

    mix = Counter(r["route"] for r in rows)
    n = len(rows)
    spent = sum(r["expected_usd"] for r in rows)
    baseline = sum(frontier_sync_cost(table, r["input_tokens"]) for r in rows)
    labelled = [(r["category"], t["label"]) for r, t in zip(rows, tickets) if t["label"]]
    metadata = {
        "tickets": n,
        **{f"route_{name}": mix.get(name, 0) for name in routing.ROUTES},
        "cache_hit_rate": mix.get(routing.CACHE, 0) / n if n else 0.0,
        "cache_probes": sum(bool(r["cache_probe"]) for r in rows),
        "cache_matches_refused": sum(1 for m, s in zip(cached, served) if m is not None and s is None),
        "safety_flagged": sum(1 for f in found if f["prefilter"]),
        "safety_sampled": sum(1 for f in found if f["sampled"]),
        "safety_noted": sum(1 for f in found if f["noted"]),
        "safety_review": sum(s.review and not f["prefilter"] for s, f in zip(screened, found)),
        **{f"flagged_{kind}": sum(any(f.kind == kind for f in s.flags) for s in screened) for kind in screening.KINDS},
        "realtime_capped": sum("realtime cap reached" in r["reason"] for r in rows),
        "cache_threshold": config.cache_threshold,
        "min_confidence": config.min_confidence,
        "tightened": "; ".join(t.why for t in config.tightened) or "nothing: every measured cheap route on target",
        "gated": "; ".join(config.gated.values()) or "nothing: no category measured under target on a cheap route",
        "gated_moved": sum(" gated for " in r["reason"] and not r["gate_probe"] for r in rows),
        "gate_probes": len(probes),
        "cache_false_hit_rate_measured": float(model.metrics.get("cache_false_hit_rate", 0.0)),
        "mean_confidence": float(np.mean(category.confidence)) if n else 0.0,
        "expected_usd": round(spent, 6),
        "frontier_sync_usd": round(baseline, 6),
        "expected_saving": round(1 - spent / baseline, 4) if baseline else 0.0,
        "model_version": model.version,
        "route_mix": dg.MetadataValue.md(markdown_table(
            ("route", "tickets", "share"), [(name, mix.get(name, 0), f"{mix.get(name, 0) / n:.1%}") for name in routing.ROUTES] if n else [],
            "no tickets")),
        "dagster/row_count": n,
    }
    if labelled:
        # In-sample when the model was trained on this day's labels: a sanity signal, not an accuracy claim.
        metadata["label_agreement"] = sum(p == t for p, t in labelled) / len(labelled)
    return dg.MaterializeResult(metadata=typed(metadata))
