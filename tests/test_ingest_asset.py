"""raw_tickets invoked directly with a partitioned context against a temporary DuckDB."""

import shutil
from datetime import date

import dagster as dg

from nightshift.assets.ingest import raw_tickets
from nightshift.ingest.rules import reason_kind
from tests.conftest import SAMPLE_DAYS


def run(resources, day: str) -> dg.MaterializeResult:
    context = dg.build_asset_context(partition_key=day)
    return raw_tickets(context, landing=resources["landing"], warehouse=resources["warehouse"])


def count(resources, table: str, day: str | None = None) -> int:
    where, params = ("WHERE day = ?", [date.fromisoformat(day)]) if day else ("", [])
    return resources["warehouse"].db.query(f"SELECT count(*) AS n FROM {table} {where}", params)["n"][0].as_py()


def test_counts_reconcile_for_every_sample_day(sample_home, resources):
    for day in SAMPLE_DAYS:
        result = run(resources, day)
        meta = {k: v.value if hasattr(v, "value") else v for k, v in result.metadata.items()}
        assert meta["rows_in"] == meta["rows_stored"] + meta["rows_quarantined"]
        assert meta["rows_stored"] == count(resources, "tickets", day) == 150
        assert meta["rows_quarantined"] == count(resources, "tickets_quarantine", day) >= 5
        assert meta["redactions"] > 0
        assert result.check_results[0].passed


def test_rerunning_a_day_replaces_it(sample_home, resources):
    day = SAMPLE_DAYS[0]
    run(resources, day)
    run(resources, SAMPLE_DAYS[1])
    before = resources["warehouse"].db.query("SELECT * EXCLUDE (ingested_at) FROM tickets ORDER BY ticket_id")
    run(resources, day)
    after = resources["warehouse"].db.query("SELECT * EXCLUDE (ingested_at) FROM tickets ORDER BY ticket_id")
    assert before.equals(after)
    assert count(resources, "tickets_quarantine") == 7 + 5  # JSONL day + Parquet day, once each
    dupes = resources["warehouse"].db.query("SELECT ticket_id FROM tickets GROUP BY 1 HAVING count(*) > 1")
    assert dupes.num_rows == 0


def test_a_ticket_removed_from_landing_disappears_on_rerun(sample_home, resources):
    day = SAMPLE_DAYS[2]  # the CSV day
    run(resources, day)
    path = sample_home.landing / day / "tickets.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:2] + lines[3:]))  # drop the first ticket
    run(resources, day)
    assert count(resources, "tickets", day) == 149


def test_missing_day_is_a_clear_outcome_and_keeps_what_was_stored(sample_home, resources):
    day = SAMPLE_DAYS[0]
    run(resources, day)
    shutil.rmtree(sample_home.landing / day)  # landing files archived after ingest
    result = run(resources, day)
    assert result.metadata["rows_in"].value == 0
    assert "no landing folder" in result.metadata["note"]
    assert count(resources, "tickets", day) == 150

    result = run(resources, "2027-01-01")
    assert result.metadata["rows_in"].value == 0


def test_empty_day_folder_stores_nothing(home, resources):
    (home.landing / "2026-11-05").mkdir(parents=True)
    result = run(resources, "2026-11-05")
    assert result.metadata["rows_in"].value == 0 and result.metadata["rows_stored"].value == 0
    assert result.check_results[0].passed


def test_an_id_stored_on_another_day_is_quarantined(sample_home, resources):
    run(resources, SAMPLE_DAYS[2])
    folder = sample_home.landing / "2026-11-04"
    folder.mkdir(parents=True)
    (folder / "late.csv").write_text("id,body,created_at\nT20261103-00001,resent,2026-11-04T08:00:00Z\n")
    result = run(resources, "2026-11-04")
    assert result.metadata["rows_stored"].value == 0 and result.metadata["rows_quarantined"].value == 1
    reason = resources["warehouse"].db.query("SELECT reason FROM tickets_quarantine WHERE day = DATE '2026-11-04'")
    assert reason["reason"][0].as_py() == "duplicate id: 'T20261103-00001', already stored for 2026-11-03"


def test_reason_kinds_group_particulars():
    assert reason_kind("bad created_at: unrecognised date 'x'") == "bad created_at"
    assert reason_kind("duplicate id: 'A1', first seen at f:2") == "duplicate id"
    assert reason_kind("missing text") == "missing text"
