"""ticket_responses: the day's finished batches collected, failures retried, one response per ticket."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import dagster as dg

from nightshift.assets.synthesis import synthesis_batches
from nightshift.knowledge.index import KnowledgeIndex
from nightshift.lib.markdown import markdown_table
from nightshift.lib.tokens import count_request, count_tokens
from nightshift.llm import prompts
from nightshift.llm.ledger import RETRYABLE, BatchLedger
from nightshift.llm.pricing import PriceTable, spend_summary
from nightshift.llm.requests import JUDGE, SAFETY, SHADOW, Request, reply_requests, wrote
from nightshift.observability import journey, tracing
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality.judging import agrees
from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.llm import PROVIDER_RETRY, LLMProvider, permanent_errors_fail_fast
from nightshift.resources.models import Prices
from nightshift.resources.safety import SafetyPolicy
from nightshift.resources.vector_store import EMBEDDINGS
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.safety.outbound import ReplyPolicy, hold_reason
from nightshift.triage.routing import CACHE, FRONTIER, HUMAN
from nightshift.warehouse.database import BLOCK, span

ANSWER_FIELDS = ("summary", "sentiment", "category", "draft_reply", "needs_human")
JOURNEYS = 3  # failed tickets followed through every stage in the metadata


# A ticket with no answer to show spent nothing.
UNANSWERED = {"status": "failed", "attempts": 0, "input_tokens": 0, "output_tokens": 0, "usd": 0.0, "frontier_sync_usd": 0.0,
              "rescued": False, "rescue_usd": 0.0}


def from_cache(ticket: dict, entry: dict | None, prices: PriceTable, passages: list[dict] | None) -> dict:
    """A cache-routed ticket's row: the stored answer, free; its baseline is what the frontier would have cost."""
    if entry is None:
        return {**UNANSWERED, "source": CACHE, "error": f"cache entry {ticket['cache_entry_id']} is gone"}
    would_send = prompts.reply_request(prices.frontier, ticket["text_redacted"], ticket["category"], passages)
    tokens_in, tokens_out = count_request(would_send), count_tokens(entry["answer"])
    return {"status": "ok", "source": CACHE, "model": entry.get("written_by") or entry["model"], "model_asked": entry["model"],
            "response": entry["answer"], "attempts": 0,
            "cache_entry_id": entry["entry_id"], "input_tokens": 0, "output_tokens": 0, "usd": 0.0, "rescued": False,
            "rescue_usd": 0.0, "frontier_sync_usd": prices.cost(prices.frontier, tokens_in, tokens_out)}


def sources(answer: dict, passages: dict[str, dict] | None, offered: bool) -> dict:
    """What an answer cites, with its articles' titles. Grounded: it cites a passage of the current knowledge base;
    unknown (None) when there is no knowledge base or nothing was above the floor for its ticket, so nothing to cite."""
    cited = list(answer.get("citations") or [])
    titles = list(dict.fromkeys(passages[c]["title"] for c in cited if c in passages)) if passages else []
    return {"citations": ",".join(cited) or None, "cited_titles": "; ".join(titles) or None,
            "grounded": bool(titles) if passages is not None and offered else None}


def verdicts(latest: dict[str, dict], spent: dict[str, dict]) -> dict[str, dict]:
    """The safety classifier's answers among the day's requests, by ticket: the kinds it found ('' when none), and its $."""
    found = {}
    for row in latest.values():
        if row["kind"] == SAFETY and row["status"] == "ok":
            answer = json.loads(row["answer"])
            found[row["ticket_id"]] = {"verdict": ",".join(k for k in prompts.SAFETY_KINDS if answer.get(k)),
                                       "verdict_reason": answer.get("reason"), "verdict_model": wrote(row),
                                       "verdict_usd": float(spent[row["custom_id"]]["usd"])}
    return found


def from_request(latest: dict | None, spent: dict | None) -> dict:
    if latest is None or spent is None:
        return {**UNANSWERED, "source": "batch", "error": "never submitted: rematerialize synthesis_batches"}
    status = {"ok": "ok", "submitted": "pending"}.get(latest["status"], "failed")
    return {"status": status, "source": latest["mode"], "model": wrote(latest), "model_asked": latest["model"], "response": latest["answer"],
            "error": latest["error"] if status == "failed" else None, "attempts": spent["attempts"], "batch_id": latest["batch_id"],
            "input_tokens": spent["input_tokens"], "output_tokens": spent["output_tokens"],
            "usd": spent["usd"], "frontier_sync_usd": spent["frontier_sync_usd"],
            "rescued": bool(spent["rescued"]), "rescue_usd": spent["rescue_usd"]}


def from_shadow(shadow: dict, paid: dict) -> dict:
    """The frontier's shadow answer, given in place of a cheap answer taken back. The shadow was paid for as the price of
    measuring quality (and is counted there); the row keeps what was paid for the cheap answer (``paid``)."""
    return {**paid, "status": "ok", "source": SHADOW, "model": wrote(shadow), "model_asked": shadow["model"], "response": shadow["answer"],
            "batch_id": shadow["batch_id"], "error": None}


@dataclass(frozen=True)
class Judged:
    """What the judge said today: per judged ticket whether its cheap answer stands, and the cache entries that may not
    serve today because a serve of theirs was judged wrong; and the cache serves as the last collection left them."""

    verdicts: dict[str, bool]
    withdrawn: dict[str, str]
    max_attempts: int
    before: dict[str, dict]  # the day's cache-route rows as an earlier collection left them

    def given_up(self, row: dict | None) -> bool:
        """A request that failed with no attempt left: what it was to bring will not come."""
        return row is not None and row["status"] in RETRYABLE and row["attempt"] >= self.max_attempts


def cheap_answer(ticket: dict, latest: dict[str, dict], spent: dict[str, dict], cached: dict[str, dict], judged: Judged,
                 prices: PriceTable, passages: list[dict] | None) -> tuple[dict, bool]:
    """A cache or model route's row, and whether the ticket must be asked afresh of the frontier model.

    A cache serve is given only while its entry stands: one judged wrong today (on any ticket), or gone from the cache, is
    taken back, and so is a probe the judge could not judge; a probe waits, pending, for its verdict. An answer taken back
    gets the frontier's shadow answer when there is one, else a new frontier request. A small-model answer the judge
    found wrong gets the shadow answer too: a judged-wrong answer is never given. So does a probe of a gated category
    (either route) the judge could not judge; one that waits for its verdict is pending, as a cache probe is. A model's
    answer to take back with no shadow answer to give waits while one may come, else goes to a person."""
    tid = ticket["ticket_id"]
    shadow, verdict = latest.get(f"{SHADOW}:{tid}"), judged.verdicts.get(tid)
    if ticket["route"] != CACHE:
        answered = from_request(latest.get(tid), spent.get(tid))
        unjudged = ticket["gate_probe"] and verdict is None and answered["status"] == "ok"
        if not (unjudged or verdict is False):
            return answered, False
        coming = shadow is not None and not judged.given_up(shadow)  # the shadow is in, or may still come
        if unjudged and coming and not judged.given_up(latest.get(f"{JUDGE}:{tid}")):
            return {**answered, "status": "pending"}, False  # its verdict may still come
        if shadow is not None and shadow["status"] == "ok":
            return {**from_shadow(shadow, answered), "replaced_response": answered["response"],
                    "replaced_because": "the judge found it wrong" if verdict is False else "its probe could not be judged"}, False
        if coming:
            return {**answered, "status": "pending"}, False
        # A verdict can outlive its shadow (a rerun of the day's synthesis drops a ticket from the sample); with nothing
        # to give in its place, a person decides.
        held = "judged wrong" if verdict is False else "a probe of a gated category the judge could not judge"
        return {**answered, "status": "held", "needs_human": True,
                "hold_reason": f"{held}, and the frontier's answer failed or was never asked"}, False
    entry_id, before = ticket["cache_entry_id"], judged.before.get(tid) or {}
    entry = cached.get(entry_id)
    if entry is None and before.get("source") == CACHE and before.get("response"):
        # Served on an earlier collection, and the entry has left the cache since (its TTL, an edited article): what
        # was given stands, and a rerun of the day gives the same.
        entry = {"entry_id": entry_id, "answer": before["response"], "model": before["model_asked"], "written_by": before["model"]}
    why = judged.withdrawn.get(entry_id) or ("its cache entry is gone" if entry is None else None)
    if why is None and (ticket["cache_probe"] or ticket["gate_probe"]) and verdict is None:
        if not (shadow is None or judged.given_up(shadow) or judged.given_up(latest.get(f"{JUDGE}:{tid}"))):
            return {**from_cache(ticket, entry, prices, passages), "status": "pending"}, False
        why = "its probe could not be judged"
    if why is None:
        return from_cache(ticket, entry, prices, passages), False
    # What was taken back, as the judge saw it: kept from the earlier collection once the retired entry is deleted.
    taken_back = {"replaced_because": why, "cache_entry_id": entry_id,
                  "replaced_response": entry["answer"] if entry else before.get("replaced_response")}
    if tid in latest:  # asked afresh on an earlier collection
        return {**from_request(latest[tid], spent.get(tid)), **taken_back}, False
    if shadow is not None and shadow["status"] == "ok":
        free = {**UNANSWERED, "frontier_sync_usd": float((spent.get(shadow["custom_id"]) or {}).get("frontier_sync_usd") or 0.0)}
        return {**from_shadow(shadow, free), **taken_back}, False
    return {**UNANSWERED, "status": "pending", "source": "batch", **taken_back, "replaced_because": f"{why}: asked afresh"}, True


def judged_today(ledger: BatchLedger, warehouse: DuckDBWarehouse, day: date, max_attempts: int) -> Judged:
    verdicts = {r["ticket_id"]: agrees(json.loads(r["answer"])) for r in ledger.latest(day, kinds=(JUDGE,)).values() if r["status"] == "ok"}
    wrong = warehouse.triage.served_from(day, [tid for tid, good in verdicts.items() if not good])
    return Judged(verdicts, {entry: f"a serve of its entry (to {tid}) was judged wrong" for tid, entry in sorted(wrong.items())},
                  max_attempts, warehouse.answers.cache_served(day))


def responses(day: date, block: list[dict], latest: dict[str, dict], spent: dict[str, dict], cached: dict[str, dict],
              context_of: dict[str, list[dict]], classified: dict[str, dict], policy: ReplyPolicy, prices: PriceTable,
              index: KnowledgeIndex | None, judged: Judged) -> tuple[list[dict], list[dict]]:
    """One row per triaged ticket of a block: its answer (from the cache, a request, the frontier's shadow, or none when
    held for a person), the hold the safety verdict or the reply policy puts on it, and what it cites; and the tickets
    to ask afresh of the frontier model."""
    rows, answers, again = [], [], []
    for ticket in block:
        tid = ticket["ticket_id"]
        if ticket["route"] == HUMAN:
            row = {**UNANSWERED, "status": "held", "source": "human", "needs_human": True, "hold_reason": ticket["reason"]}
        else:
            row, ask = cheap_answer(ticket, latest, spent, cached, judged, prices, context_of.get(tid))
            if ask:
                again.append(ticket)
        answers.append(json.loads(row["response"]) if row.get("response") else {})
        row = {"ticket_id": tid, "day": day, "route": ticket["route"], "prompt_version": prompts.SUPPORT_REPLY,
               **{k: answers[-1].get(k) for k in ANSWER_FIELDS}, **row}
        held = hold_reason(classified.get(tid, {}).get("verdict"), answers[-1].get("draft_reply") or "", ticket["route"], policy)
        if row["status"] == "ok" and held:
            row.update(status="held", needs_human=True, hold_reason=held)
        rows.append(row)
    passages = index.passages([c for answer in answers for c in answer.get("citations") or []]) if index is not None else None
    return [{**row, **sources(answer, passages, row["ticket_id"] in context_of)} for row, answer in zip(rows, answers)], again


@dg.asset(
    partitions_def=daily_partitions,
    deps=[synthesis_batches],
    group_name="nightly",
    kinds={"duckdb"},
    pool="duckdb_writer",
    retry_policy=PROVIDER_RETRY,
)
@traced
def ticket_responses(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, answer_cache: AnswerCache, llm: LLMProvider, prices: Prices,
    knowledge: KnowledgeBase, safety: SafetyPolicy,
) -> dg.MaterializeResult:
    """One response per ticket in DuckDB `ticket_responses` (answer, model, tokens, $, attempts, status, the passages it
    cites and their articles' titles, and whether it is grounded: cites a passage of the current knowledge base).

    Collects the day's finished batches and resubmits failed, invalid, expired or cancelled requests while attempts are left.
    An answer is held for a person (status held, with its hold_reason) when the safety classifier flagged its ticket or the
    reply breaks the reply policy; a ticket the pre-filter flagged was never asked of a model. Held answers are not cached.

    `replies_saving` is the replies' alone. The day's saving in daily_cost_and_quality is a little lower: it also pays for
    the digest, the shadow answers the judge compares, the judge and the safety classifier.
    """
    with permanent_errors_fail_fast():
        day = partition_day(context)
        table = prices.table()
        ledger = BatchLedger(warehouse.db, llm.providers(), table)
        collected = ledger.collect(day)
        retried, exhausted = ledger.retry(day, llm.max_attempts)
        policy = safety.reply_policy()
        index = knowledge.index() if knowledge.enabled() else None

        judged = judged_today(ledger, warehouse, day, llm.max_attempts)
        again: list[Request] = []

        def blocks() -> Iterator[list[dict]]:
            for block in warehouse.triage.triaged_blocks(day, BLOCK):
                within = span(block)
                latest, spent = ledger.latest(day, within=within), ledger.spent(day, within=within)
                classified = verdicts(latest, spent)
                warehouse.safety.record_verdicts(day, [{"ticket_id": tid, **v} for tid, v in classified.items()])
                cached = answer_cache.get([t["cache_entry_id"] for t in block if t["route"] == CACHE and t["cache_entry_id"]])
                context_of = warehouse.context.passages(day, within)
                answered, ask = responses(day, block, latest, spent, cached, context_of, classified, policy, table, index, judged)
                again.extend(reply_requests([{**t, "route": FRONTIER} for t in ask], table, context_of))
                tracing.tickets("answer", answered, ("route", "status", "source", "model", "attempts", "usd", "hold_reason"))
                yield answered

        warehouse.answers.replace_day(day, blocks())
        # Tickets whose cache answer was taken back with no frontier answer at hand: asked now, collected next time.
        asked_afresh = ledger.send(day, ledger.plan(day, again, (), llm.max_attempts))[1]
        grounded = warehouse.answers.grounded(day)
        summary = warehouse.answers.summary(day)
        held = warehouse.answers.with_status(day, "held", 20)
        failed = warehouse.answers.with_status(day, "failed", 20)
        return dg.MaterializeResult(metadata=typed({
            "tickets": summary["tickets"],
            **{f"status_{name}": summary[f"status_{name}"] for name in ("ok", "pending", "failed", "held")},
            **{f"safety_{k}": v for k, v in warehouse.safety.summary(day).items()},
            "held": dg.MetadataValue.md(markdown_table(
                ("ticket", "route", "why"), [(r["ticket_id"], r["route"], r["hold_reason"]) for r in held],
                "nothing held")),
            "cache_served": summary["cache_served"],
            # Per route, the share of answers that cite a passage of the current knowledge base.
            **{f"grounded_{route}": round(share, 4) for route, (share, _) in grounded.items()},
            "grounding": "on" if index is not None else "off: no knowledge base",
            # The replies alone; daily_cost_and_quality's saving counts every request of the day, so it is a little lower.
            **{f"replies_{key}": value for key, value in spend_summary([summary]).items()},
            "mean_attempts": round(float(summary["mean_attempts"]), 4),
            "batch_turnaround_s": ledger.turnaround_s(day),
            **collected,
            "batches_resubmitted": len(retried),
            "cache_withdrawn": summary["cache_withdrawn"],
            "asked_afresh": len(again),
            "batches_asked_afresh": len(asked_afresh),
            "requests_out_of_attempts": exhausted,
            "failures": dg.MetadataValue.md(markdown_table(
                ("ticket", "route", "attempts", "error"), [(r["ticket_id"], r["route"], r["attempts"], r["error"]) for r in failed])),
            # The first few failures followed through every stage, as `nightshift trace` prints them.
            "failed_journeys": dg.MetadataValue.md("\n\n".join(
                journey.markdown(found, warehouse.journeys.attempts_of(r["ticket_id"]), answer_cache.vectors.dimensions(EMBEDDINGS, r["ticket_id"]))
                for r in failed[:JOURNEYS] if (found := warehouse.journeys.of(r["ticket_id"]))) or "no failed ticket"),
            "dagster/row_count": summary["tickets"],
        }))
