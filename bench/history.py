"""D days of history for bench.night: one real night, copied backwards.

Running D real nights of N tickets would make the benchmark cost D times the thing it measures. Instead
the day before the measured night runs for real (ingest, embeddings, triage, batches, answers, checks,
reports), and its rows are then copied to each of the D-1 days before it: every DuckDB table with a
``day`` column, the LanceDB ticket embeddings, and the answer-cache entries (dated back by the same
number of days, so the cache's age limit sees a real spread). Identifier columns (``*_id`` except the
knowledge base's ``chunk_id`` and ``article_id``) get a ``~hK`` suffix, so copies never collide.
The night then reads history of the size and shape a deployment D days old would have.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import lancedb
import pyarrow as pa
import pyarrow.compute as pc

from nightshift.lib.home import Home
from nightshift.resources.answer_cache import TABLE as CACHE
from nightshift.resources.vector_store import EMBEDDINGS
from nightshift.warehouse.database import Warehouse

SHARED_IDS = {"chunk_id", "article_id"}  # knowledge-base references: the same passages on every day


def build_history(home: Home, night: date, days: int, write_day: Callable[[date], None],
                  run_night: Callable[..., dict]) -> dict:
    source = night - timedelta(days=1)
    write_day(source)
    real = run_night(home.root, source)
    with Warehouse(home.warehouse).connect() as con:
        copied = copy_tables(con, source, days - 1)
    db = lancedb.connect(str(home.vectors))
    vectors = copy_embeddings(db, source, days - 1)
    entries = copy_cache(db, days - 1)
    return {"history_days": days, "real_night_wall_s": real["wall_s"], "rows_copied": copied,
            "vectors_copied": vectors, "cache_entries_copied": entries}


def copy_tables(con: duckdb.DuckDBPyConnection, source: date, copies: int) -> int:
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.columns JOIN information_schema.tables USING (table_schema, table_name) "
        "WHERE column_name = 'day' AND table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]
    copied = 0
    for table in tables:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
        ids = [c for c in columns if c.endswith("_id") and c not in SHARED_IDS]
        for k in range(1, copies + 1):
            replaced = ", ".join([f"day - {k} AS day", *(f"{c} || '~h{k}' AS {c}" for c in ids)])
            copied += con.execute(f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM {table} WHERE day = ?",
                                  [source]).fetchall()[0][0]
    return copied


def copy_embeddings(db, source: date, copies: int) -> int:
    table = db.open_table(EMBEDDINGS)
    rows = table.search().where(f"day = '{source.isoformat()}'").limit(None).to_arrow()
    for k in range(1, copies + 1):
        day = (source - timedelta(days=k)).isoformat()
        table.add(rows.set_column(rows.schema.get_field_index("ticket_id"), "ticket_id", suffixed(rows["ticket_id"], k))
                  .set_column(rows.schema.get_field_index("day"), "day", pa.array([day] * rows.num_rows, pa.string())))
    return rows.num_rows * copies


def copy_cache(db, copies: int) -> int:
    try:
        table = db.open_table(CACHE)
    except ValueError:
        return 0
    rows = table.to_arrow()
    for k in range(1, copies + 1):
        copy = rows
        for name in ("entry_id", "source_ticket_id"):
            copy = copy.set_column(copy.schema.get_field_index(name), name, suffixed(copy[name], k))
        for name, unit in (("created_at", "us"), ("source_day", "ms")):
            back = pc.subtract(copy[name], pa.scalar(timedelta(days=k), pa.duration(unit)))
            copy = copy.set_column(copy.schema.get_field_index(name), name, back.cast(copy.schema.field(name).type))
        table.add(copy)
    return rows.num_rows * copies


def suffixed(column: pa.ChunkedArray, k: int) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(column, pa.scalar(f"~h{k}"), "")
