"""The warehouse as a DuckLake (catalog in PostgreSQL on loopback): the same tables as the file, written by several
processes at once without a lost or doubled day."""

import multiprocessing
from datetime import date

import pytest

from nightshift.app.instance import WRITER_POOL, cli_instance
from nightshift.deployment.loopback import lake_catalog
from nightshift.warehouse.database import Warehouse
from nightshift.warehouse.schema import TABLES
from tests.services import postgres

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]


def rows_of(day: date, writer: int) -> list[dict]:
    return [{"day": day, "source_file": f"writer-{writer}", "source_line": n, "reason": "r", "raw": "x"} for n in range(25)]


def writer(location: str, data: str, number: int) -> None:
    """Replace both days ten times over, as reruns of a backfill in another process would."""
    db = Warehouse(location, data_path=data)
    for _ in range(10):
        for day in DAYS:
            db.replace_day(day, {"tickets_quarantine": rows_of(day, number)})


@pytest.mark.slow  # a real PostgreSQL server
def test_the_lake_holds_the_files_tables_and_concurrent_replacements_keep_one_copy_of_each_day(tmp_path):
    with postgres("lake") as url:
        db = Warehouse(lake_catalog(url), data_path=str(tmp_path / "data"))
        tables = {r["table_name"] for r in db.rows("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'lake'")}
        assert set(TABLES) <= tables

        # Four processes replace the same two days at once: the replacements conflict (a delete and an insert on one
        # table), and each loser runs again on the new snapshot.
        context = multiprocessing.get_context("spawn")
        processes = [context.Process(target=writer, args=(lake_catalog(url), str(tmp_path / "data"), n)) for n in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=300)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0]

        per_day = db.rows("SELECT day, count(*) AS n, count(DISTINCT source_file) AS writers FROM tickets_quarantine "
                          "GROUP BY day ORDER BY day")
        assert [(r["day"], r["n"], r["writers"]) for r in per_day] == [(day, 25, 1) for day in DAYS]


def test_a_lake_lets_several_steps_write_at_once_and_a_file_one(home, monkeypatch):
    assert cli_instance(home).event_log_storage.get_concurrency_info(WRITER_POOL).slot_count == 1
    monkeypatch.setenv("NIGHTSHIFT_WAREHOUSE", "ducklake:postgres:dbname=lake host=db.internal")
    monkeypatch.setenv("NIGHTSHIFT_LAKE_WRITERS", "3")
    assert cli_instance(home).event_log_storage.get_concurrency_info(WRITER_POOL).slot_count == 3
