"""cached_answers: the day's answers that are safe to give a second customer go into the LanceDB answer cache."""

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import numpy as np

from nightshift.assets.quality import answer_quality
from nightshift.assets.responses import ticket_responses
from nightshift.lib.clock import utcnow
from nightshift.lib.markdown import markdown_table
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache, entry_id
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.triage import admission
from nightshift.triage.routing import CACHE, FRONTIER, SMALL
from nightshift.warehouse.database import BLOCK

REFUSALS_SHOWN = 20


def origin(row: dict) -> str:
    """Who wrote the answer: the frontier's shadow given instead, the frontier asked afresh for a withdrawn cache serve,
    or the route's own model."""
    return "shadow" if row["source"] == "shadow" else FRONTIER if row["route"] == CACHE else row["route"]


def reply_and_ticket(embedder: EmbedderResource, by_id: dict[str, np.ndarray], rows: list[dict],
                     field: str = "response") -> tuple[list[str], np.ndarray, np.ndarray]:
    """For answers whose ticket has a vector in ``by_id`` (and that have ``field``): their ticket ids, the vectors of the
    replies in ``field`` and their tickets' vectors."""
    rows = [r for r in rows if r["ticket_id"] in by_id and r.get(field)]
    if not rows:
        return [], np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    replies = embedder.embedder.embed([str(json.loads(r[field]).get("draft_reply") or "") for r in rows])
    return [r["ticket_id"] for r in rows], replies, np.stack([by_id[r["ticket_id"]] for r in rows])


@dg.asset(
    partitions_def=daily_partitions,
    # After answer_quality: an answer the judge rejected stays out.
    deps=[ticket_responses, answer_quality],
    group_name="nightly",
    kinds={"lancedb"},
    pool="lancedb_writer",
)
@traced
def cached_answers(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, answer_cache: AnswerCache,
    knowledge: KnowledgeBase, embedder: EmbedderResource, quality: QualityPolicy,
) -> dg.MaterializeResult:
    """The day's answers that are safe to give someone else, added to the semantic answer cache; every answer's
    admission, and each rule it broke, in DuckDB `cache_admissions`.

    Admitted: an ok answer, not rejected by the judge, in its ticket's triaged category, with a reply about its ticket
    (reply-ticket similarity over a floor calibrated on the day's frontier answers), no personal data (nothing the
    redaction detectors find, no value copied from the ticket), to a ticket the safety stage cleared that hides nothing.
    Frontier answers are verified at once; a small-model answer is on probation until a judge agrees with it. An entry
    cites article versions, and knowledge_base retires it when one of them changes.
    """
    day = partition_day(context)
    index = knowledge.index()
    # Pass one: every reply's similarity to its ticket, and the floor the day's frontier answers calibrate.
    similar: dict[str, float] = {}
    taken_back: dict[str, float] = {}  # the same for a cheap answer the judge had replaced, as it was written
    frontier: list[tuple[np.ndarray, np.ndarray]] = []
    for block in warehouse.answers.fresh_for_cache(day, BLOCK):
        by_id = vectors.vectors_of(EMBEDDINGS, [r["ticket_id"] for r in block])
        back, written, asked = reply_and_ticket(embedder, by_id, block, "replaced_response")
        taken_back.update(zip(back, map(float, (written * asked).sum(axis=1))))
        ids, replies, tickets = reply_and_ticket(embedder, by_id, block)
        similar.update(zip(ids, map(float, (replies * tickets).sum(axis=1))))
        by_frontier = {r["ticket_id"] for r in block if origin(r) != SMALL and r["status"] == "ok"}
        frontier += [(replies[i], tickets[i]) for i, tid in enumerate(ids) if tid in by_frontier]
    floor = calibrated_floor(frontier, answer_cache.relevance_floor)
    window = warehouse.quality.agreement(day - timedelta(days=quality.window_days + 1), day - timedelta(days=1)).get(SMALL)
    # The small model has earned verified entries when even the worst case of its measured wrong rate is in the bound.
    small_trusted = window is not None and window.n > 0 and 1 - window.low <= answer_cache.error_bound

    def admissions() -> Iterator[tuple[list[dict], list[dict]]]:
        """Pass two, a block at a time: each answer's admission row, and the cache entries of those admitted."""
        for block in warehouse.answers.fresh_for_cache(day, BLOCK):
            answers = {r["ticket_id"]: json.loads(r["response"]) for r in block}
            passages = index.passages([c for a in answers.values() for c in a.get("citations") or []])
            by_id = vectors.vectors_of(EMBEDDINGS, [r["ticket_id"] for r in block])
            keys = {r["ticket_id"]: entry_id(r["prompt_version"], r["model_asked"], r["ticket_id"]) for r in block}
            # An entry retired for a wrong serve stays out, also when a rerun of its day decides its answer again.
            retired = {e for e, (_, wrong) in warehouse.quality.cache_records(sorted(keys.values()), before=date.max).items() if wrong}
            rows, entries = [], []
            for r in block:
                tid, answer, made_by, key = r["ticket_id"], answers[r["ticket_id"]], origin(r), keys[r["ticket_id"]]
                cites = answer.get("citations") or []
                # The verdict is on the small model's answer: not on the frontier's given in its place, nor on a cache
                # serve's (a ticket asked afresh keeps the verdict on the answer it replaced).
                judged = False if key in retired else r["judged"] if made_by == SMALL else None
                candidate = admission.Candidate(
                    status=r["status"], answer=answer, predicted_category=r["category"],
                    ticket_texts=tuple(t for t in (r["subject"], r["body"], r["text_redacted"]) if t), help_text=r["help_text"] or "",
                    relevance=similar.get(tid), judged=judged, prefilter=r["prefilter"],
                    verdict=r["verdict"] or None, stale_citation=not all(c in passages for c in cites))
                refused = admission.reasons(candidate, floor.value)
                if answer_cache.admission == "open":
                    refused = [reason for reason in refused if reason.split(":")[0] in admission.OPEN]
                trust = None if refused else admission.trust(made_by, candidate.judged, small_trusted or answer_cache.admission == "open")
                rows.append({"ticket_id": tid, "day": day, "entry_id": key, "route": made_by, "admitted": not refused,
                             "trust": trust, "reasons": "; ".join(refused) or None, "relevance": similar.get(tid), "floor": floor.value,
                             "cheap_relevance": taken_back.get(tid, similar.get(tid))})
                if not refused:
                    entries.append({"entry_id": key, "vector": by_id[tid], "answer": r["response"], "category": r["category"],
                                    "prompt_version": r["prompt_version"], "model": r["model_asked"], "written_by": r["model"],
                                    "source_ticket_id": tid,
                                    "source_day": day, "created_at": utcnow(), "trust": trust,
                                    "cited_versions": sorted({f"{passages[c]['article_id']}@{passages[c]['article_version']}" for c in cites})})
            yield rows, entries

    recorded: list[dict] = []
    refused_ids: list[str] = []
    for rows, entries in admissions():
        if entries:
            answer_cache.add(entries, dim=len(entries[0]["vector"]))
        recorded += rows
        refused_ids += [r["entry_id"] for r in rows if not r["admitted"]]
    # A rerun may refuse what an earlier run of the day admitted (the judge spoke since, an answer was taken back).
    removed = answer_cache.remove(refused_ids)
    warehouse.answers.replace_admissions(day, recorded)
    counts = warehouse.answers.admissions(day)
    by_route = Counter((r["route"], r["admitted"]) for r in recorded)
    refused = [r for r in recorded if not r["admitted"]]
    return dg.MaterializeResult(metadata=typed({
        "answers": len(recorded), **counts, "removed_on_rerun": removed,
        **{f"admitted_{route}": by_route[(route, True)] for route in ("small_model", "frontier", "realtime", "shadow")},
        "relevance_floor": floor.value, "relevance_floor_source": floor.source, "floor_frontier_answers": floor.answers,
        # How well the floor separates: frontier replies with their own tickets, and the same replies with other tickets.
        **({"floor_passes_own": floor.pass_own} if floor.pass_own is not None else {}),
        **({"floor_passes_other_tickets": floor.pass_others} if floor.pass_others is not None else {}),
        "small_model_verified_on_admission": int(small_trusted),
        "refusals": dg.MetadataValue.md(markdown_table(
            ("ticket", "answered by", "reasons"), [(r["ticket_id"], r["route"], r["reasons"]) for r in refused[:REFUSALS_SHOWN]],
            "nothing refused")),
    }))


def calibrated_floor(frontier: list[tuple[np.ndarray, np.ndarray]], default: float) -> admission.Floor:
    """The off-topic floor from the day's frontier answers (reply and ticket vectors), and how many off-topic pairs it
    would let through: each frontier reply paired with the next answer's ticket stands in for an off-topic reply."""
    if not frontier:
        return admission.relevance_floor([], [], default)
    replies, tickets = (np.stack(side) for side in zip(*frontier))
    own = (replies * tickets).sum(axis=1)
    others = (replies * np.roll(tickets, 1, axis=0)).sum(axis=1) if len(frontier) > 1 else np.zeros(0)
    return admission.relevance_floor(own, others, default)
