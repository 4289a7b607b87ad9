"""Faults for the chunked assets (ticket_embeddings, ticket_context, cached_answers) that their tests do not try:
ticket ids that are awkward in SQL, days with no tickets, chunks of one ticket, failures part way through a day, a
rerun after a reply changed, and a rerun after the embedding model changed."""

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import dagster as dg
import lancedb
import numpy as np
import pyarrow as pa
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.app.runner import run_days
from nightshift.app.settings import resources_for
from nightshift.assets.cache import cached_answers
from nightshift.assets.embeddings import COUNTS, ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.assets.knowledge import knowledge_base, ticket_context
from nightshift.deployment.loopback import free_port
from nightshift.ingest.encoders import MiniLMEmbedder
from nightshift.ingest.samples import SampleSpec, day_tickets
from nightshift.knowledge.sample import write_sample
from nightshift.lib.home import Home
from nightshift.llm.engine import LocalBatchEngine
from nightshift.llm.server import BatchServer
from nightshift.orchestration.chunks import CHUNK_TICKETS, split
from nightshift.resources.answer_cache import TABLE as CACHE_TABLE
from nightshift.resources.chunk_results import ChunkResults
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.vector_store import EMBEDDINGS, REPLIES, LanceDBStore, id_range
from tests.conftest import SAMPLE_START

DAY = SAMPLE_START
KEY = DAY.isoformat()

# Ids that are awkward for SQL built as text (LanceDB filters are strings) or for ordering: quotes, backslashes, a
# trailing backslash, SQL syntax, LIKE wildcards, non-ASCII, case, whitespace inside.
ODD_IDS = [
    "O'Brien-01", "it''s-02", "back\\slash-03", "ends-with-backslash\\", "esc\\'quote-05", 'double"quote-06',
    "pct%_under-07", "x') OR ('1'='1", "semi;colon -- 09", "ünïcödé-10", "日本語-11", "emoji🎫-12", "UPPER-13", "lower-14",
    "tab\tinside-15", "Z",
]


def rows_with_ids(day: date, ids: list[str]) -> list[dict]:
    """Sample tickets of the day, with these ids."""
    return [{**row, "id": ticket_id} for row, ticket_id in zip(day_tickets(day, SampleSpec(tickets_per_day=len(ids))), ids)]


def land(home: Home, day: date, rows: list[dict]) -> None:
    """The day's landing folder holds exactly these rows, as JSONL (any character survives)."""
    folder = home.landing / day.isoformat()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "tickets.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def materialize(assets, resources, partition=True, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, partition_key=KEY if partition else None, resources=resources, raise_on_error=False,
                          **kwargs)


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def error_text(error) -> str:
    """A step's error with its causes (Dagster wraps what the op raised)."""
    parts = []
    while error is not None:
        parts.append(error.message.strip().splitlines()[-1][:250] if error.message.strip() else error.cls_name)
        error = error.cause
    return " <- ".join(parts)


def step_errors(result) -> list[str]:
    return [f"{e.step_key}: {error_text(e.event_specific_data.error)}" for e in result.all_events if e.is_step_failure]


def failure(result: dg.ExecuteInProcessResult) -> str:
    return "; ".join(step_errors(result))


def lance_rows(home: Home, table: str, columns: list[str], order: str) -> list[dict]:
    db = lancedb.connect(str(home.vectors))
    if table not in db.table_names():
        return []
    return db.open_table(table).search().select(columns).limit(None).to_arrow().sort_by(order).to_pylist()


def day_embeddings(home: Home) -> list[dict]:
    return [r for r in lance_rows(home, EMBEDDINGS, ["ticket_id", "day", "text_hash", "model_id", "vector"], "ticket_id")
            if r["day"] == KEY]


SQLS = (
    "SELECT ticket_id, rank, chunk_id, article_id, article_version, score, similarity, text FROM ticket_context ORDER BY ticket_id, rank",
    "SELECT ticket_id, route, status, source, response, citations, cited_titles, grounded FROM ticket_responses ORDER BY ticket_id",
    "SELECT ticket_id, entry_id, route, admitted, trust, reasons, relevance, floor, cheap_relevance FROM cache_admissions ORDER BY ticket_id",
)


def stored_day(home: Home) -> dict:
    """What a night stores for the day: the three DuckDB tables, and the LanceDB vectors and answer cache."""
    db = resources_for(home, "")["warehouse"].db
    return {
        **{sql.split(" FROM ")[1].split()[0]: db.rows(sql) for sql in SQLS},
        "ticket_embeddings": day_embeddings(home),
        "answer_cache": lance_rows(home, CACHE_TABLE, ["entry_id", "answer", "trust", "category", "source_ticket_id",
                                                       "cited_versions", "vector"], "entry_id"),
    }


def row_at(rows: list[dict], i: int) -> dict | None:
    return {k: v for k, v in rows[i].items() if k != "vector"} if i < len(rows) else None


def differences(a: dict, b: dict) -> list[str]:
    """The tables that differ, each with its first differing row (and how far apart the vectors are, where they are)."""
    out = []
    for name in a:
        if a[name] != b[name]:
            first = next((i for i, (x, y) in enumerate(zip(a[name], b[name])) if x != y), min(len(a[name]), len(b[name])))
            note = ""
            if len(a[name]) == len(b[name]) and "vector" in a[name][first]:
                gaps = [float(np.max(np.abs(np.asarray(x["vector"]) - np.asarray(y["vector"])))) for x, y in zip(a[name], b[name])]
                note = f" (vectors differ in {sum(g > 0 for g in gaps)} rows, by up to {max(gaps):.2e})"
            out.append(f"{name}: {len(a[name])} vs {len(b[name])} rows; first difference at row {first}: "
                       f"{row_at(a[name], first)} vs {row_at(b[name], first)}{note}")
    return out


# ---------------------------------------------------------------------------------------------------------------- fast


def test_odd_ticket_ids_fall_in_the_same_chunk_in_duckdb_and_lancedb_and_are_reused(home, resources, monkeypatch):
    """Claim 5 (odd characters) and claim 2: every id lands once in LanceDB with chunks of one ticket, each chunk's id
    range selects the same tickets in DuckDB (the tickets) and LanceDB (their vectors), and a rerun reuses them all."""
    land(home, DAY, rows_with_ids(DAY, ODD_IDS))
    monkeypatch.setenv(CHUNK_TICKETS, "1")
    first = materialize([raw_tickets, ticket_embeddings], resources)
    assert first.success, failure(first)
    tickets, vectors = resources["warehouse"].tickets, resources["vectors"]
    assert sorted(tickets.hashes(DAY)) == sorted(ODD_IDS)  # the ingest kept every id as written
    assert [r["ticket_id"] for r in day_embeddings(home)] == sorted(ODD_IDS)
    assert metadata_of(first, "ticket_embeddings")["chunks"] == len(ODD_IDS)

    mismatches = []
    for size in (1, 2, 3, 5):
        for chunk in split(tickets.chunk_starts(DAY, size)):
            duck = [t["ticket_id"] for block in tickets.texts(DAY, 100, chunk.first, chunk.until) for t in block]
            try:
                lance = sorted(vectors.day_rows(EMBEDDINGS, DAY, ["ticket_id"], id_range(chunk.first, chunk.until))["ticket_id"].to_pylist())
            except Exception as exc:  # noqa: BLE001 - the filter itself may not parse
                lance = [f"ERROR {type(exc).__name__}: {str(exc)[:120]}"]
            if duck != lance:
                mismatches.append(f"size {size} [{chunk.first!r}, {chunk.until!r}): duckdb {duck} lancedb {lance}")
    try:
        found = set(vectors.vectors_of(EMBEDDINGS, ODD_IDS))
    except Exception as exc:  # noqa: BLE001
        found = {f"ERROR {type(exc).__name__}"}
    assert not mismatches, "\n".join(mismatches)
    assert found == set(ODD_IDS), f"vectors_of misses {sorted(set(ODD_IDS) - found)}"

    again = materialize([ticket_embeddings], resources)
    assert again.success, failure(again)
    meta = metadata_of(again, "ticket_embeddings")
    assert (meta["embedded"], meta["reused"], meta["tickets"]) == (0, len(ODD_IDS), len(ODD_IDS))
    assert [r["ticket_id"] for r in day_embeddings(home)] == sorted(ODD_IDS)


@pytest.mark.parametrize("size", ["0", "5", None], ids=["size-0-means-1", "size-5", "default-one-chunk"])
def test_embeddings_and_context_are_identical_whatever_the_chunk_size(tmp_path, home, monkeypatch, size):
    """Claims 1 and 3 outside a night: chunks of one ticket (a size of 0 is read as 1), of five, and the whole day in
    one chunk store the same vectors, bit for bit, and the same passages. The one-chunk run is the reference."""
    stored = {}
    for label, chunk in (("reference", None), ("chunked", size)):
        h = Home(tmp_path / label)
        land(h, DAY, day_tickets(DAY, SampleSpec(tickets_per_day=20)))
        write_sample(h.knowledge)
        if chunk is None:
            monkeypatch.delenv(CHUNK_TICKETS, raising=False)
        else:
            monkeypatch.setenv(CHUNK_TICKETS, chunk)
        res = resources_for(h, "")
        assert materialize([knowledge_base], res, partition=False).success
        result = materialize([raw_tickets, ticket_embeddings, ticket_context], res)
        assert result.success, failure(result)
        expected_chunks = {None: 1, "0": 20, "5": 4}[chunk]
        assert metadata_of(result, "ticket_embeddings")["chunks"] == metadata_of(result, "ticket_context")["chunks"] == expected_chunks
        stored[label] = {"ticket_embeddings": day_embeddings(h),
                         "ticket_context": res["warehouse"].db.rows(SQLS[0])}
        assert len(stored[label]["ticket_embeddings"]) == 20 and stored[label]["ticket_context"]
        assert not any((h.root / "chunks").glob("*/*")), "chunk results left behind after a successful run"
    assert not differences(stored["chunked"], stored["reference"]), differences(stored["chunked"], stored["reference"])


def test_a_day_without_tickets_runs_and_clears_what_the_day_stored_before(home, resources, monkeypatch):
    """Claim 5 (a day with no tickets) before any LanceDB table exists, then after a day with tickets was stored: the
    one empty chunk runs and the day's rows are gone from ticket_embeddings and ticket_context."""
    monkeypatch.setenv(CHUNK_TICKETS, "2")
    write_sample(home.knowledge)
    only_bad = [{**day_tickets(DAY, SampleSpec(tickets_per_day=1))[0], "id": "EMPTY-1", "subject": "", "body": ""}]
    assert materialize([knowledge_base], resources, partition=False).success
    stages = []
    for rows in (only_bad, day_tickets(DAY, SampleSpec(tickets_per_day=5)), only_bad):
        land(home, DAY, rows)
        result = materialize([raw_tickets, ticket_embeddings, ticket_context], resources)
        assert result.success, failure(result)
        stages.append((metadata_of(result, "ticket_embeddings")["tickets"], metadata_of(result, "ticket_embeddings")["chunks"],
                       len(day_embeddings(home)), len(resources["warehouse"].db.rows(SQLS[0])) > 0))
    assert stages == [(0, 1, 0, False), (5, 3, 5, True), (0, 1, 0, False)]


def test_a_chunk_that_fails_leaves_the_stored_day_as_it_was_and_a_rerun_completes_it(home, resources, monkeypatch):
    """Claim 2 under a fault: one chunk's step raises; the day stored before keeps every row once; the rerun stores
    the same vectors again and leaves no chunk results behind."""
    land(home, DAY, day_tickets(DAY, SampleSpec(tickets_per_day=6)))
    monkeypatch.setenv(CHUNK_TICKETS, "2")
    assert materialize([raw_tickets, ticket_embeddings], resources).success
    before = day_embeddings(home)
    victim = before[3]["ticket_id"]  # in the second chunk

    import nightshift.assets.embeddings as embeddings

    real = embeddings.embedding_rows

    def faulty(ids, *args, **kwargs):
        if victim in ids:
            raise RuntimeError("injected: worker lost mid-chunk")
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(embeddings, "embedding_rows", faulty)
    failed = materialize([ticket_embeddings], resources)
    assert not failed.success
    assert day_embeddings(home) == before
    monkeypatch.setattr(embeddings, "embedding_rows", real)
    again = materialize([ticket_embeddings], resources)
    assert again.success, failure(again)
    assert day_embeddings(home) == before
    assert not (home.root / "chunks" / again.run_id).exists()


def test_a_store_that_fails_midway_never_leaves_the_day_partly_stored(home, resources, monkeypatch):
    """Claim 2 under a fault in the last op: LanceDB refuses the second chunk's append. The day must then still hold
    what it held (or everything); the rerun must restore it exactly."""
    land(home, DAY, day_tickets(DAY, SampleSpec(tickets_per_day=6)))
    monkeypatch.setenv(CHUNK_TICKETS, "2")
    assert materialize([raw_tickets, ticket_embeddings], resources).success
    before = day_embeddings(home)

    real, calls = LanceDBStore.upsert, []

    def faulty(self, table, rows, key="ticket_id"):
        calls.append(table)
        if table == EMBEDDINGS and len(calls) == 2:
            raise OSError("injected: object store write failed")
        return real(self, table, rows, key)

    monkeypatch.setattr(LanceDBStore, "upsert", faulty)
    failed = materialize([ticket_embeddings], resources)
    monkeypatch.setattr(LanceDBStore, "upsert", real)
    assert not failed.success
    partly = day_embeddings(home)
    again = materialize([ticket_embeddings], resources)
    assert again.success and day_embeddings(home) == before  # the rerun repairs it
    assert len(partly) == len(before), f"between the failure and the rerun the day held {len(partly)} of {len(before)} vectors"


def context_job() -> dg.JobDefinition:
    """ticket_context alone, in process, on the home NIGHTSHIFT_HOME names: a job execute_job can re-execute."""
    return dg.Definitions(
        assets=[ticket_context], resources=resources_for(Home.from_env(), ""),
        jobs=[dg.define_asset_job("context_only", selection=[ticket_context], executor_def=dg.in_process_executor)],
    ).resolve_job_def("context_only")


def context_run_that_fails_then_is_reexecuted(home: Home, resources: dict, monkeypatch, cls, method: str) -> tuple:
    """A day of 6 tickets in chunks of 2; ticket_context run once as a reference, then run again with ``cls.method``
    raising once, then re-executed from that failure (Dagster's "re-execute from failure"). Returns the reference rows,
    the rows after, the re-execution's outcome, and the chunk results left under chunks/."""
    land(home, DAY, day_tickets(DAY, SampleSpec(tickets_per_day=6)))
    write_sample(home.knowledge)
    monkeypatch.setenv(CHUNK_TICKETS, "2")
    assert materialize([knowledge_base], resources, partition=False).success
    assert materialize([raw_tickets, ticket_embeddings, ticket_context], resources).success
    reference = resources["warehouse"].db.rows(SQLS[0])
    real, raised = getattr(cls, method), []

    def once(self, *args, **kwargs):
        if not raised:
            raised.append(method)
            raise OSError(f"injected: {method} failed once")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, once)
    with dg.instance_for_test() as instance:
        job = dg.reconstructable(context_job)
        first = dg.execute_job(job, instance, tags={"dagster/partition": KEY}, raise_on_error=False)
        assert not first.success and raised
        first_errors = step_errors(first)
        assert len(first_errors) == 1 and "injected" in first_errors[0], first_errors
        again = dg.execute_job(job, instance, reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance),
                               tags={"dagster/partition": KEY}, raise_on_error=False)
        outcome = (again.success, step_errors(again), first.run_id)
    left = sorted(str(p.relative_to(home.root / "chunks")) for p in (home.root / "chunks").glob("*/*"))
    return reference, resources["warehouse"].db.rows(SQLS[0]), outcome, left


def test_a_last_op_reexecuted_from_failure_stores_the_day_and_leaves_no_chunk_results(home, resources, monkeypatch):
    """Claim 2 with Dagster's own recovery: store_context fails before it stores (the DuckDB write raises once); the run
    re-executed from failure reuses the chunks' results, stores the same passages, and deletes the results."""
    from nightshift.warehouse.ticket_context import ContextSQL

    reference, after, (success, errors, parent), left = context_run_that_fails_then_is_reexecuted(home, resources, monkeypatch,
                                                                                                 ContextSQL, "replace_day")
    assert success, errors
    assert after == reference
    assert not left, f"chunk results left behind (the failed parent run was {parent}): {left}"


def test_a_last_op_that_fails_after_storing_can_be_reexecuted_from_failure(home, resources, monkeypatch):
    """Claim 2 with Dagster's own recovery: store_context stores the day, clears the chunk results, then fails while
    reading its metadata (the knowledge base read raises once). Re-executing from failure must succeed."""
    from nightshift.resources.knowledge import KnowledgeBase

    reference, after, (success, errors, _), _ = context_run_that_fails_then_is_reexecuted(home, resources, monkeypatch,
                                                                                         KnowledgeBase, "enabled")
    assert after == reference  # the day itself was stored before the failure
    assert success, errors


def test_chunk_results_keep_a_chunks_counts_and_ignore_a_killed_write(tmp_path):
    """The IO manager with what the assets really hand it: an empty day's table with no columns and only its counts
    (embed_chunk), a reading with its replies_embedded count (read_answers), and a step killed mid-write before its
    retry."""
    store = ChunkResults(root=str(tmp_path))
    out = dg.build_output_context(run_id="r", step_key="ticket_embeddings.embed_chunk[chunk_0]", name="result")
    empty = pa.table({}).replace_schema_metadata(dict(zip(COUNTS, (b"0", b"0.0"))))
    store.handle_output(out, empty)
    back = store.load_input(dg.build_input_context(upstream_output=out))
    assert back.num_rows == 0 and back.schema.metadata == empty.schema.metadata

    from nightshift.assets.cache import READING

    out2 = dg.build_output_context(run_id="r", step_key="cached_answers.read_answers[chunk_1]", name="result")
    path = tmp_path / "r" / "cached_answers.read_answers[chunk_1].result"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".partial").write_bytes(b"ARROW1\x00\x00truncated")  # the first try, killed while writing
    reading = READING.empty_table().replace_schema_metadata({b"replies_embedded": b"7"})
    store.handle_output(out2, reading)  # the retry
    back = store.load_input(dg.build_input_context(upstream_output=out2))
    assert back.schema.equals(READING) and back.schema.metadata == {b"replies_embedded": b"7"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["cached_answers.read_answers[chunk_1].result",
                                                            "ticket_embeddings.embed_chunk[chunk_0].result"]
    store.clear("r")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------------------------------------------------------- nights

# Odd ids for whole nights (quotes, backslashes, SQL, non-ASCII, case), then ordinary sample ids for the rest of the day.
NIGHT_TICKETS = 30


def night_rows(odd: list[str]) -> list[dict]:
    rows = day_tickets(DAY, SampleSpec(tickets_per_day=NIGHT_TICKETS))
    return [{**row, "id": ticket_id} for row, ticket_id in zip(rows, odd + [r["id"] for r in rows[len(odd):]])]


NIGHT_ODD = ["O'Brien-01", "it''s-02", "back\\slash-03", "ends-with-backslash\\", "esc\\'quote-05", 'double"quote-06',
             "pct%_under-07", "x') OR ('1'='1", "ünïcödé-10", "日本語-11",
             "emoji🎫-12", "UPPER-13", "lower-14"]


def run_night(home: Home, chunk: str | None, mp: pytest.MonkeyPatch) -> None:
    (home.root / "dagster_home").mkdir(parents=True, exist_ok=True)
    mp.setenv("NIGHTSHIFT_HOME", str(home.root))
    mp.setenv("DAGSTER_HOME", str(home.root / "dagster_home"))
    if chunk is None:
        mp.delenv(CHUNK_TICKETS, raising=False)
    else:
        mp.setenv(CHUNK_TICKETS, chunk)
    with BatchServer(LocalBatchEngine(Path(tempfile.mkdtemp())), port=free_port(), token="t").running() as server:
        for name, value in {"NIGHTSHIFT_LLM": "openai", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "t"}.items():
            mp.setenv(name, value)
        run_days(build_definitions(home, ""), dg.DagsterInstance.ephemeral(), "nightly_job", [DAY], collect=True)


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Home:
    """One night of 30 tickets (ten with odd ids), the whole day in one chunk; tests work on copies of its home."""
    home = Home(tmp_path_factory.mktemp("night") / "home")
    land(home, DAY, night_rows(NIGHT_ODD))
    write_sample(home.knowledge)
    with pytest.MonkeyPatch.context() as mp:
        run_night(home, None, mp)
    return home


def copy_of(night: Home, where: Path) -> Home:
    shutil.copytree(night.root, where)
    return Home(where)


@pytest.mark.slow
def test_a_night_in_chunks_of_one_with_odd_ids_stores_what_one_chunk_stores(night, tmp_path, monkeypatch):
    """Claims 1, 3 and 5 in a whole night: chunks of one ticket, ids with quotes, SQL and non-ASCII, against the same
    night in one chunk: ticket_context, ticket_responses, cache_admissions, the vectors and the answer cache."""
    home = Home(tmp_path / "ones")
    land(home, DAY, night_rows(NIGHT_ODD))
    write_sample(home.knowledge)
    run_night(home, "1", monkeypatch)
    whole, ones = stored_day(night), stored_day(home)
    assert len(whole["ticket_embeddings"]) == NIGHT_TICKETS and whole["cache_admissions"] and whole["answer_cache"]
    assert not differences(ones, whole), "\n".join(differences(ones, whole))
    assert not any((home.root / "chunks").glob("*/*"))


@pytest.mark.slow
def test_rerunning_the_chunked_assets_in_other_chunks_twice_changes_nothing(night, tmp_path, monkeypatch):
    """Claims 1 and 2 on a stored night: the three chunked assets re-materialized twice, in chunks of 7, store exactly
    what the night stored (no row lost, none doubled) and leave no chunk results."""
    home = copy_of(night, tmp_path / "rerun")
    monkeypatch.setenv(CHUNK_TICKETS, "7")
    res = resources_for(home, "")
    for _ in range(2):
        for asset in (ticket_embeddings, ticket_context, cached_answers):
            result = materialize([asset], res)
            assert result.success, failure(result)
            assert metadata_of(result, asset.key.to_user_string())["chunks"] == 5
    assert not differences(stored_day(home), stored_day(night)), "\n".join(differences(stored_day(home), stored_day(night)))
    assert not any((home.root / "chunks").glob("*/*"))


def change_replies(home: Home, how_many: int) -> list[str]:
    """Rewrite the reply of the first admitted answers (in the response JSON and its column); their ticket ids."""
    db = resources_for(home, "")["warehouse"].db
    ids = [r["ticket_id"] for r in db.rows("SELECT ticket_id FROM cache_admissions WHERE admitted ORDER BY ticket_id LIMIT ?", [how_many])]
    for tid in ids:
        (row,) = db.rows("SELECT response FROM ticket_responses WHERE ticket_id = ? AND day = ?", [tid, DAY])
        answer = json.loads(row["response"])
        answer["draft_reply"] = (answer.get("draft_reply") or "") + " If anything else comes up, just reply to this message."
        db.execute("UPDATE ticket_responses SET response = ?, draft_reply = ? WHERE ticket_id = ? AND day = ?",
                   [json.dumps(answer), answer["draft_reply"], tid, DAY])
    return ids


def forget_replies(home: Home) -> None:
    db = lancedb.connect(str(home.vectors))
    if REPLIES in db.table_names():
        db.drop_table(REPLIES)


def admissions_after_rerun(home: Home, resources: dict, fresh: bool) -> tuple[dict, dict]:
    if fresh:
        forget_replies(home)
    result = materialize([cached_answers], resources)
    assert result.success, failure(result)
    stored = stored_day(home)
    return {k: stored[k] for k in ("cache_admissions", "answer_cache")}, metadata_of(result, "cached_answers")


@pytest.mark.slow
def test_a_rerun_after_replies_changed_admits_what_a_fresh_run_admits(night, tmp_path, monkeypatch):
    """Claim 4: three admitted answers get a new reply text; cached_answers rerun with the day's reply vectors (reused)
    and without them (a fresh run) must record the same admissions and cache entries."""
    monkeypatch.setenv(CHUNK_TICKETS, "4")
    outcomes = {}
    for mode in ("reused", "fresh"):
        home = copy_of(night, tmp_path / mode)
        changed = change_replies(home, 3)
        assert len(changed) == 3
        outcomes[mode] = admissions_after_rerun(home, resources_for(home, ""), fresh=mode == "fresh")
    (reused, reused_meta), (fresh, fresh_meta) = outcomes["reused"], outcomes["fresh"]
    assert reused_meta["replies_embedded"] == 3 < fresh_meta["replies_embedded"]  # the reuse did happen
    assert not differences(reused, fresh), "\n".join(differences(reused, fresh))


class PermutedMiniLM:
    """A different embedding model of the same size: MiniLM's vectors with their dimensions permuted and signs flipped.
    Similarities between its own vectors are MiniLM's; with MiniLM's vectors they are meaningless."""

    model_id = "minilm-permuted-for-a-test"

    def __init__(self):
        self.inner = MiniLMEmbedder()
        rng = np.random.default_rng(0)
        self.order, self.signs = rng.permutation(384), rng.choice([-1.0, 1.0], 384).astype(np.float32)

    def embed(self, texts, progress=None):
        return np.ascontiguousarray(self.inner.embed(texts)[:, self.order] * self.signs, dtype=np.float32)


class PermutedEmbedder(EmbedderResource):
    def build(self):
        return PermutedMiniLM()


@pytest.mark.slow
def test_a_rerun_after_the_embedding_model_changed_admits_what_a_fresh_run_admits(night, tmp_path, monkeypatch):
    """Claim 4 against a model change: the day rerun (ticket_embeddings, then cached_answers) with another embedding
    model, once with the day's reply vectors kept and once without, must record the same admissions."""
    outcomes = {}
    for mode in ("reused", "fresh"):
        home = copy_of(night, tmp_path / mode)
        res = {**resources_for(home, ""), "embedder": PermutedEmbedder()}
        result = materialize([ticket_embeddings], res)
        assert result.success, failure(result)
        assert metadata_of(result, "ticket_embeddings")["embedded"] == NIGHT_TICKETS  # the new model re-embedded the day
        outcomes[mode] = admissions_after_rerun(home, res, fresh=mode == "fresh")
    (reused, _), (fresh, _) = outcomes["reused"], outcomes["fresh"]
    assert not differences(reused, fresh), "\n".join(differences(reused, fresh))
