"""cached_answers: the day's answers that are safe to give a second customer go into the LanceDB answer cache."""

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import numpy as np
import pyarrow as pa

from nightshift.ingest.rules import text_hash
from nightshift.lib.clock import utcnow
from nightshift.lib.markdown import markdown_table
from nightshift.orchestration.chunks import Chunk, day_chunks
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache, entry_id
from nightshift.resources.chunk_results import ChunkResults
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.vector_store import EMBEDDINGS, REPLIES, LanceDBStore, id_range, matrix_of, sql_string
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.triage import admission
from nightshift.triage.routing import CACHE, FRONTIER, SMALL
from nightshift.warehouse.database import BLOCK

REFUSALS_SHOWN = 20


def origin(row: dict) -> str:
    """Who wrote the answer: the frontier's shadow given instead, the frontier asked afresh for a withdrawn cache serve,
    or the route's own model."""
    return "shadow" if row["source"] == "shadow" else FRONTIER if row["route"] == CACHE else row["route"]


def reply_and_ticket(embedder: EmbedderResource, by_id: dict[str, np.ndarray], rows: list[dict], field: str,
                     known: dict[str, np.ndarray]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """For answers whose ticket has a vector in ``by_id`` (and that have ``field``): their ticket ids, the hashes and
    vectors of the replies in ``field``, and their tickets' vectors. ``known`` holds reply vectors by the hash of the
    reply's text: a reply already embedded is not embedded again, and those embedded now are added to it."""
    rows = [r for r in rows if r["ticket_id"] in by_id and r.get(field)]
    if not rows:
        return [], [], np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    texts = [str(json.loads(r[field]).get("draft_reply") or "") for r in rows]
    hashes = [text_hash(text) for text in texts]
    todo = {h: text for h, text in zip(hashes, texts) if h not in known}
    if todo:
        known.update(zip(todo, embedder.embedder.embed(list(todo.values()))))
    return [r["ticket_id"] for r in rows], hashes, np.stack([known[h] for h in hashes]), np.stack([by_id[r["ticket_id"]] for r in rows])


EMBEDDED = "replies_embedded"  # how many replies a chunk embedded (the rest were embedded by an earlier run of the day)
MODEL = "model_id"  # the model that embedded them

# Pass one, per chunk: what reading the answers found, before the day's floor is known.
READING = pa.schema([
    ("ticket_id", pa.string()), ("relevance", pa.float64()), ("cheap_relevance", pa.float64()),
    ("reply", pa.list_(pa.float32())), ("ticket", pa.list_(pa.float32())),  # a frontier answer's, for the floor
    ("personal", pa.list_(pa.string())), ("unusual", pa.string()), ("not_general", pa.list_(pa.string())),
    ("replies", pa.list_(pa.string())), ("reply_vectors", pa.list_(pa.list_(pa.float32()))),  # kept for the next run
])


def candidate(r: dict, answer: dict, **known) -> admission.Candidate:
    """An answer row as the admission rules see it; ``known``: what is known of it beyond its texts."""
    return admission.Candidate(status=r["status"], answer=answer, predicted_category=r["category"],
                               ticket_texts=tuple(t for t in (r["subject"], r["body"], r["text_redacted"]) if t),
                               help_text=r["help_text"] or "", **known)


@dg.op(out=dg.Out(io_manager_key="chunk_results"))
def read_answers(context: dg.OpExecutionContext, chunk: Chunk, warehouse: DuckDBWarehouse, vectors: LanceDBStore,
                 embedder: EmbedderResource) -> pa.Table:
    """A chunk's answers read: each reply's similarity to its ticket (embedding the replies is most of the asset's
    time), the same for a cheap answer the judge had replaced, as it was written, a frontier answer's two vectors for the
    day's floor, and what the rules that read texts found (personal data, a hiding ticket, a reply that is not general)."""
    day = partition_day(context)
    # The replies an earlier run of the day embedded (the batches come back in parts: each collection reads them all).
    model = sql_string(embedder.embedder.model_id)  # a vector of another model is no use
    before = vectors.day_rows(REPLIES, day, ["text_hash", "vector"], f"{id_range(chunk.first, chunk.until)} AND model_id = {model}")
    known = dict(zip(before["text_hash"].to_pylist(), matrix_of(before))) if before is not None and before.num_rows else {}
    reused = len(known)
    rows = []
    for block in warehouse.answers.fresh_for_cache(day, BLOCK, chunk.first, chunk.until):
        by_id = vectors.vectors_of(EMBEDDINGS, [r["ticket_id"] for r in block])
        back, cheap_hashes, written, asked = reply_and_ticket(embedder, by_id, block, "replaced_response", known)
        taken_back = dict(zip(back, map(float, (written * asked).sum(axis=1))))
        cheap = dict(zip(back, cheap_hashes))
        ids, hashes, replies, tickets = reply_and_ticket(embedder, by_id, block, "response", known)
        at = {tid: i for i, tid in enumerate(ids)}
        sims = (replies * tickets).sum(axis=1)
        for r in block:
            tid = r["ticket_id"]
            reading = admission.read(candidate(r, json.loads(r["response"])))
            frontier = tid in at and origin(r) != SMALL and r["status"] == "ok"
            similar = float(sims[at[tid]]) if tid in at else None
            used = ([hashes[at[tid]]] if tid in at else []) + ([cheap[tid]] if tid in cheap else [])  # its replies' hashes
            rows.append({"ticket_id": tid, "relevance": similar, "cheap_relevance": taken_back.get(tid, similar),
                         "reply": replies[at[tid]] if frontier else None, "ticket": tickets[at[tid]] if frontier else None,
                         "personal": list(reading.personal), "unusual": reading.unusual, "not_general": list(reading.not_general),
                         "replies": used, "reply_vectors": [known[h] for h in used]})
    return pa.Table.from_pylist(rows, schema=READING.with_metadata({EMBEDDED: str(len(known) - reused),
                                                                    MODEL: embedder.embedder.model_id}))


@dg.op(pool="lancedb_writer", ins={"judged": dg.In(dg.Nothing)})
@traced
def admit_answers(
    context: dg.OpExecutionContext, chunks: list[pa.Table], warehouse: DuckDBWarehouse, vectors: LanceDBStore,
    answer_cache: AnswerCache, knowledge: KnowledgeBase, quality: QualityPolicy, chunk_results: dg.ResourceParam[ChunkResults],
) -> None:
    """Pass two, with the chunks' readings: the floor the day's frontier answers calibrate, then each answer's admission,
    a block at a time, and the cache entries of those admitted."""
    day = partition_day(context)
    index = knowledge.index()
    read = pa.concat_tables(chunks).sort_by("ticket_id") if chunks else READING.empty_table()
    readings = {r["ticket_id"]: r for r in read.to_pylist()}
    frontier = [(np.asarray(r["reply"], np.float32), np.asarray(r["ticket"], np.float32)) for r in readings.values() if r["reply"]]
    floor = calibrated_floor(frontier, answer_cache.relevance_floor)
    window = warehouse.quality.agreement(day - timedelta(days=quality.window_days + 1), day - timedelta(days=1)).get(SMALL)
    # The small model has earned verified entries when even the worst case of its measured wrong rate is in the bound.
    small_trusted = window is not None and window.n > 0 and 1 - window.low <= answer_cache.error_bound

    def admissions() -> Iterator[tuple[list[dict], list[dict]]]:
        """Each answer's admission row, and the cache entries of those admitted, a block at a time."""
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
                found = readings[tid]
                cites = answer.get("citations") or []
                # The verdict is on the small model's answer: not on the frontier's given in its place, nor on a cache
                # serve's (a ticket asked afresh keeps the verdict on the answer it replaced).
                judged = False if key in retired else r["judged"] if made_by == SMALL else None
                looked = candidate(r, answer, relevance=found["relevance"], judged=judged, prefilter=r["prefilter"],
                                   verdict=r["verdict"] or None, stale_citation=not all(c in passages for c in cites))
                refused = admission.reasons(looked, floor.value, admission.Reading(
                    tuple(found["personal"]), found["unusual"], tuple(found["not_general"])))
                if answer_cache.admission == "open":
                    refused = [reason for reason in refused if reason.split(":")[0] in admission.OPEN]
                trust = None if refused else admission.trust(made_by, looked.judged, small_trusted or answer_cache.admission == "open")
                rows.append({"ticket_id": tid, "day": day, "entry_id": key, "route": made_by, "admitted": not refused,
                             "trust": trust, "reasons": "; ".join(refused) or None, "relevance": found["relevance"],
                             "floor": floor.value, "cheap_relevance": found["cheap_relevance"]})
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
    keep_replies(vectors, day, read, {(c.schema.metadata or {}).get(MODEL.encode(), b"").decode() for c in chunks})
    counts = warehouse.answers.admissions(day)
    by_route = Counter((r["route"], r["admitted"]) for r in recorded)
    refused = [r for r in recorded if not r["admitted"]]
    context.add_output_metadata(typed({
        "answers": len(recorded), **counts, "removed_on_rerun": removed, "chunks": len(chunks),
        "replies_embedded": sum(int((c.schema.metadata or {}).get(EMBEDDED.encode(), 0)) for c in chunks),
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
    chunk_results.clear_after(context)


@dg.graph_asset(
    partitions_def=daily_partitions,
    # After answer_quality: an answer the judge rejected stays out.
    ins={"ticket_responses": dg.AssetIn(dagster_type=dg.Nothing), "answer_quality": dg.AssetIn(dagster_type=dg.Nothing)},
    group_name="nightly",
    kinds={"lancedb"},
)
def cached_answers(ticket_responses, answer_quality) -> None:
    """The day's answers that are safe to give someone else, added to the semantic answer cache; every answer's
    admission, and each rule it broke, in DuckDB `cache_admissions`. The answers are read (their replies embedded) in
    chunks that workers run side by side.

    Admitted: an ok answer, not rejected by the judge, in its ticket's triaged category, with a reply about its ticket
    (reply-ticket similarity over a floor calibrated on the day's frontier answers), no personal data (nothing the
    redaction detectors find, no value copied from the ticket), to a ticket the safety stage cleared that hides nothing.
    Frontier answers are verified at once; a small-model answer is on probation until a judge agrees with it. An entry
    cites article versions, and knowledge_base retires it when one of them changes.
    """
    # Reading needs the answers; admitting needs the judge's verdicts too.
    return admit_answers(day_chunks(ticket_responses).map(read_answers).collect(), judged=answer_quality)


def keep_replies(vectors: LanceDBStore, day: date, read: pa.Table, models: set[str]) -> None:
    """The day's reply vectors in LanceDB `reply_embeddings` (ticket id, day, hash of the reply's text, the model that
    embedded it, vector), in place of the day's before, for the day's next collection to reuse. Chunks embedded by
    more than one model (the model changed during the run) leave nothing to reuse."""
    vectors.delete_day(REPLIES, day)
    if len(models) != 1:
        return
    (model_id,) = models
    pairs = [(r["ticket_id"], h, v) for r in read.select(["ticket_id", "replies", "reply_vectors"]).to_pylist()
             for h, v in zip(r["replies"], r["reply_vectors"])]
    if pairs:
        matrix = np.asarray([v for _, _, v in pairs], np.float32)
        vectors.add(REPLIES, pa.table({
            "ticket_id": pa.array([t for t, _, _ in pairs], pa.string()), "day": pa.array([day.isoformat()] * len(pairs), pa.string()),
            "text_hash": pa.array([h for _, h, _ in pairs], pa.string()), "model_id": pa.array([model_id] * len(pairs), pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1), pa.float32()), matrix.shape[1]),
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
