"""Both assets together through dg.materialize, against temporary DuckDB and LanceDB."""

from datetime import date

import dagster as dg
import numpy as np
import pytest

from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.resources.vector_store import EMBEDDINGS as TABLE
from tests.conftest import SAMPLE_DAYS


def materialize(resources, day):
    result = dg.materialize([raw_tickets, ticket_embeddings], partition_key=day, resources=resources)
    assert result.success
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def only(result, check_name):
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == check_name]
    return evaluation


def stored_vectors(resources):
    return resources["vectors"].table(TABLE).to_arrow().sort_by("ticket_id")


def test_days_land_in_duckdb_and_lancedb_keyed_by_ticket_id(sample_home, resources):
    for day in SAMPLE_DAYS:
        meta = materialize(resources, day)
        assert meta["ticket_embeddings"]["tickets"] == meta["raw_tickets"]["rows_stored"] == 150
        assert meta["ticket_embeddings"]["tickets_per_s"] > 0
        assert meta["ticket_embeddings"]["model_id"] == "all-MiniLM-L6-v2-onnx-int8"
    vectors = stored_vectors(resources)
    ids = resources["warehouse"].db.query("SELECT ticket_id, text_hash FROM tickets ORDER BY ticket_id")
    assert vectors["ticket_id"].to_pylist() == ids["ticket_id"].to_pylist()
    assert vectors["text_hash"].to_pylist() == ids["text_hash"].to_pylist()
    matrix = np.asarray(vectors["vector"].to_pylist())
    assert matrix.shape == (450, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1, atol=1e-4)


@pytest.mark.slow
def test_rerun_reuses_vectors_and_reembeds_only_changed_tickets(sample_home, resources, monkeypatch):
    monkeypatch.setattr("nightshift.assets.embeddings.BLOCK", 40)  # 150 tickets: four blocks read, embedded and written
    day = SAMPLE_DAYS[2]  # CSV day
    materialize(resources, day)
    first = stored_vectors(resources)

    again = materialize(resources, day)["ticket_embeddings"]
    assert (again["embedded"], again["reused"]) == (0, 150)
    assert stored_vectors(resources).equals(first)

    path = sample_home.landing / day / "tickets.csv"
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
    first_ticket = lines[1]
    assert first_ticket.startswith("T20261103-00000,")
    lines[1] = first_ticket.replace("twice", "three times")
    del lines[2]  # and one ticket withdrawn
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape")
    changed = materialize(resources, day)["ticket_embeddings"]
    assert (changed["tickets"], changed["embedded"], changed["reused"]) == (149, 1, 148)
    assert stored_vectors(resources).num_rows == 149


@pytest.mark.slow
def test_a_day_emptied_upstream_removes_its_vectors(sample_home, resources):
    day = SAMPLE_DAYS[2]
    materialize(resources, day)
    for f in (sample_home.landing / day).iterdir():
        f.unlink()
    meta = materialize(resources, day)
    assert meta["ticket_embeddings"]["tickets"] == 0
    assert stored_vectors(resources).num_rows == 0


@pytest.mark.slow
def test_embeddings_check_passes_then_catches_a_vector_gone_missing(sample_home, resources):
    from nightshift.checks.embeddings import compare, embeddings_match_tickets

    day = SAMPLE_DAYS[0]
    result = dg.materialize([raw_tickets, ticket_embeddings, embeddings_match_tickets], partition_key=day, resources=resources)
    evaluation = only(result, "embeddings_match_tickets")
    assert evaluation.passed and evaluation.metadata["tickets"].value == 150

    resources["vectors"].table(TABLE).delete("ticket_id = 'T20261101-00003'")
    passed, figures = compare(resources["warehouse"], resources["vectors"], date(2026, 11, 1))
    assert not passed
    assert figures["missing"] == 1 and figures["examples"] == "T20261101-00003"

    # The day is written in blocks, so a block written twice must show too.
    table = resources["vectors"].table(TABLE)
    table.add(table.search().where("ticket_id = 'T20261101-00004'").limit(None).to_arrow())
    passed, figures = compare(resources["warehouse"], resources["vectors"], date(2026, 11, 1))
    assert not passed and figures["duplicated"] == 1
