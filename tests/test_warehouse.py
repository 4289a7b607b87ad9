import subprocess
import sys
import time

import duckdb
import pyarrow as pa
import pytest

from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import Warehouse, migrate, open_database
from nightshift.warehouse.schema import MIGRATIONS, TABLES

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def hold_lock(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_reader_waits_for_another_process_writer(tmp_path):
    path = tmp_path / "w.duckdb"
    DuckDBWarehouse(path=str(path)).db.query("SELECT 1")  # create the file and tables
    writer = hold_lock(path, 1.5)
    started = time.monotonic()
    rows = DuckDBWarehouse(path=str(path)).db.query("SELECT count(*) AS n FROM tickets")
    assert rows["n"][0].as_py() == 0
    assert time.monotonic() - started > 0.5  # it really waited for the lock
    writer.wait()


def test_waiting_is_bounded(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    writer = hold_lock(path, 5)
    with pytest.raises(duckdb.IOException, match="lock"):
        open_database(str(path), read_only=True, wait_s=0.3)
    writer.kill()


def test_each_table_is_described_once_and_its_arrow_schema_follows(tmp_path):
    db = Warehouse(tmp_path / "w.duckdb")
    for name, table in TABLES.items():
        stored = [r["column_name"] for r in db.rows("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                                    "ORDER BY ordinal_position", [name])]
        assert stored == table.names
        assert table.arrow.names == [c for c in table.names if c != table.stamp]


def test_an_older_warehouse_is_migrated_without_losing_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # as an older nightshift left it: no cache_entry_id, no migrations table
        con.execute("CREATE TABLE ticket_triage (ticket_id VARCHAR NOT NULL, day DATE NOT NULL, category VARCHAR NOT NULL, "
                    "confidence DOUBLE NOT NULL, priority VARCHAR, priority_source VARCHAR, route VARCHAR NOT NULL, reason VARCHAR NOT NULL, "
                    "cache_ticket_id VARCHAR, cache_similarity DOUBLE, nearest_known DOUBLE, input_tokens BIGINT NOT NULL, "
                    "expected_usd DOUBLE NOT NULL, model_version VARCHAR NOT NULL, triaged_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")
        con.execute("INSERT INTO ticket_triage VALUES ('T1', DATE '2026-11-01', 'billing', 0.9, NULL, NULL, 'cache', 'r', "
                    "NULL, NULL, NULL, 10, 0.0, 'v1', DEFAULT)")
    db = Warehouse(path)
    rows = db.rows("SELECT ticket_id, cache_entry_id FROM ticket_triage")
    assert rows == [{"ticket_id": "T1", "cache_entry_id": None}]
    assert db.rows("SELECT max(version) AS v FROM schema_migrations")[0]["v"] == len(MIGRATIONS)
    with db.connect() as con:
        assert migrate(con) == len(MIGRATIONS)  # nothing left to apply
    assert db.rows("SELECT count(*) AS n FROM schema_migrations")[0]["n"] == len(MIGRATIONS)


def test_a_check_evaluated_after_the_days_row_is_counted_in_it(tmp_path):
    """The cost-and-quality row is written before the checks that run after it; they update it, so the row, `report`
    and check_pass_rates say the same."""
    from datetime import date

    from nightshift.warehouse.reports import ReportsSQL
    from nightshift.warehouse.schema import COST_AND_QUALITY

    reports = ReportsSQL(Warehouse(str(tmp_path / "w.duckdb")))
    day = date(2026, 11, 1)
    reports.record_check(day, "raw_tickets", "rows_reconcile", True, "ERROR", "{}")
    numbers = {f.name: 0 for f in COST_AND_QUALITY.arrow if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)}
    row = numbers | {"day": day, "checks": 1, "checks_passed": 1, "check_pass_rate": 1.0}
    reports.replace_day(day, row)
    reports.record_check(day, "answer_quality", "cheap_answers_meet_quality_target", False, "WARN", "{}")
    (stored,) = reports.days(date(2026, 10, 31))
    assert (stored["checks"], stored["checks_passed"], stored["check_pass_rate"]) == (2, 1, 0.5)
    assert [c["check_name"] for c in reports.checks_of(day) if not c["passed"]] == ["cheap_answers_meet_quality_target"]
