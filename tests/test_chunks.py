"""A day's heavy work in chunks: ranges that cover the day once, results that a chunk run again replaces, and a day's
second collection that reuses the replies its first embedded."""

import tempfile
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.app.runner import run_days
from nightshift.app.settings import resources_for
from nightshift.assets.cache import cached_answers
from nightshift.assets.ingest import raw_tickets
from nightshift.deployment.loopback import free_port
from nightshift.ingest.samples import write_days
from nightshift.knowledge.sample import write_sample
from nightshift.llm.engine import LocalBatchEngine
from nightshift.llm.server import BatchServer
from nightshift.orchestration.chunks import CHUNK_TICKETS, Chunk, split
from nightshift.resources.chunk_results import ChunkResults
from tests.conftest import SAMPLE_START


def test_chunks_split_at_their_first_ids_and_a_day_without_tickets_is_one_empty_chunk():
    assert split([]) == [Chunk(0)]
    assert split(["a", "m", "t"]) == [Chunk(0, "a", "m"), Chunk(1, "m", "t"), Chunk(2, "t", None)]


def test_the_chunks_of_a_day_hold_each_ticket_once(home, resources):
    write_days(home.landing, SAMPLE_START, 1)
    assert dg.materialize([raw_tickets], partition_key=SAMPLE_START.isoformat(), resources=resources).success
    tickets = resources["warehouse"].tickets
    starts = tickets.chunk_starts(SAMPLE_START, 40)
    assert len(starts) == 4  # 150 tickets
    read = [t["ticket_id"] for c in split(starts) for block in tickets.texts(SAMPLE_START, 7, c.first, c.until) for t in block]
    assert read == sorted(tickets.hashes(SAMPLE_START)) and len(read) == 150


def test_a_chunk_run_again_replaces_its_result_and_clearing_the_run_leaves_nothing(tmp_path):
    store = ChunkResults(root=str(tmp_path))
    written = dg.build_output_context(run_id="r1", step_key="asset.work[chunk_0]", name="result")
    for value in (pa.table({"x": [1]}), pa.table({"x": [2]})):  # the step's first try, then its retry
        store.handle_output(written, value)
    read = dg.build_input_context(upstream_output=written)
    assert store.load_input(read).to_pydict() == {"x": [2]}
    store.handle_output(dg.build_output_context(run_id="r1", step_key="asset.plan", name="result"), Chunk(3, "a", "b"))
    assert store.load_input(dg.build_input_context(upstream_output=dg.build_output_context(
        run_id="r1", step_key="asset.plan", name="result"))) == Chunk(3, "a", "b")
    assert not list(tmp_path.rglob("*.partial"))
    store.clear("r1")
    assert not list(tmp_path.iterdir())


def admitted(instance: dg.DagsterInstance) -> list[dict]:
    """The metadata of every materialization of cached_answers, oldest first."""
    found = instance.fetch_materializations(dg.AssetKey("cached_answers"), limit=100, ascending=True).records
    return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in found]


@pytest.mark.slow
def test_a_days_later_collections_embed_only_the_replies_the_earlier_did_not(home, monkeypatch):
    write_days(home.landing, SAMPLE_START, 1)
    write_sample(home.knowledge)
    monkeypatch.setenv(CHUNK_TICKETS, "40")
    instance = dg.DagsterInstance.ephemeral()
    with BatchServer(LocalBatchEngine(Path(tempfile.mkdtemp())), port=free_port(), token="t").running() as server:
        for name, value in {"NIGHTSHIFT_LLM": "openai", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "t"}.items():
            monkeypatch.setenv(name, value)
        run_days(build_definitions(home, ""), instance, "nightly_job", [SAMPLE_START], collect=True)
        runs = admitted(instance)
        assert len(runs) >= 2 and all(r["chunks"] == 4 for r in runs)
        first, last = runs[0], runs[-1]
        assert first["replies_embedded"] > 0 and last["answers"] >= first["answers"]
        # The later collection embedded only what the first had not: answers that came back since, and the frontier's
        # answers given in place of cheap ones the judge found wrong. Before, it embedded every reply again.
        assert last["replies_embedded"] < last["answers"] / 2
        db = resources_for(home, "")["warehouse"].db
        before = db.rows("SELECT * EXCLUDE (day) FROM cache_admissions ORDER BY ticket_id")
        again = dg.materialize([cached_answers], partition_key=SAMPLE_START.isoformat(), resources=resources_for(home, ""),
                               instance=instance)
    assert again.success
    assert admitted(instance)[-1]["replies_embedded"] == 0
    assert db.rows("SELECT * EXCLUDE (day) FROM cache_admissions ORDER BY ticket_id") == before
