"""The warehouse's database: a DuckDB file (one machine), or a DuckLake that many processes and machines write.

Either is opened per operation and migrated once per process before the first use; the SQL is the same.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from nightshift.lib.threads import threads
from nightshift.warehouse import lake
from nightshift.warehouse.schema import MIGRATIONS, TABLES

# Databases this process has brought up to date: the migrations run at most once per database and process.
_migrated: set[str] = set()
_migrating = threading.Lock()

T = TypeVar("T")


def open_database(path: str, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting out another process's lock on the file.

    DuckDB lets one process at a time open a file for writing (or several for reading only). Runs
    of a backfill are separate processes, so a reader can meet a writer; writers keep their
    transactions short, and everyone else waits a little instead of failing the run.
    """
    deadline, delay = time.monotonic() + wait_s, 0.05
    while True:
        try:
            count = threads()
            return duckdb.connect(path, read_only=read_only, config={"threads": count} if count else {})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations this database has not seen, in the caller's transaction; returns its schema version."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp)")
    (current,) = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0]
    (tables,) = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
                            "AND table_name IN (SELECT unnest(?))", [list(TABLES)]).fetchall()[0]
    # The first migration creates every table as it is described now, so a new warehouse is current after it; the later
    # ones only bring older warehouses up (and a DuckLake refuses some of them on a table that is already current).
    fresh = current == 0 and tables == 0
    steps = [(len(MIGRATIONS), MIGRATIONS[0])] if fresh else list(enumerate(MIGRATIONS[current:], start=current + 1))
    for version, sql in steps:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (version) VALUES (?)", [version])
    return len(MIGRATIONS)


# Tickets a night's steps read, work on and write at a time: what bounds their memory, whatever the size of the day.
BLOCK = 10_000


def span(block: list[dict]) -> tuple[str, str]:
    """The first and last ticket id of a block read in ticket order: what ``tickets_within`` reads the block's rows by."""
    return block[0]["ticket_id"], block[-1]["ticket_id"]


def tickets_within(within: tuple[str, str] | None) -> tuple[str, list[str]]:
    """A condition (and its parameters) to read only the rows about tickets from a first to a last id, or everything."""
    return (" AND ticket_id BETWEEN ? AND ?", list(within)) if within else ("", [])


class Warehouse:
    """Tickets, quarantine and every later output table, in a DuckDB file or a DuckLake; the gateways query it.

    ``path`` is a file path, or a DuckLake catalog (``ducklake:postgres:dbname=... host=...``) whose data files go to
    ``data_path``.
    """

    def __init__(self, path: str | Path, lock_wait_s: float = 120.0, data_path: str | None = None):
        self.path = str(path)
        self.lock_wait_s = lock_wait_s
        self.data_path = data_path
        self.is_lake = lake.is_lake(self.path)
        if self.is_lake and not data_path:
            raise ValueError("a DuckLake warehouse needs a data path (NIGHTSHIFT_LAKE_DATA): where its Parquet files go")

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        # Connections are opened per operation: DuckDB allows one writer per file, so nobody holds it long. A lake has
        # no such lock; each operation takes a cursor (its own transactions) on the process's attached lake.
        self._ensure_migrated()
        con = self._open(read_only)
        try:
            yield con
        finally:
            con.close()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if self.is_lake:
            return lake.cursor(self.path, str(self.data_path))
        return open_database(self.path, read_only, self.lock_wait_s)

    def _current(self) -> bool:
        return self.path in _migrated and (self.is_lake or Path(self.path).exists())

    def _ensure_migrated(self) -> None:
        if self._current():
            return
        with _migrating:
            if self._current():
                return
            if not self.is_lake:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._transact(migrate)
            _migrated.add(self.path)

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` in one write transaction: committed when it returns, rolled back if it raises.

        On a lake, writers in other processes may commit first; where their changes conflict with these (a delete
        and an insert on the same table), nothing of this attempt is stored and ``work`` runs again from the start,
        on the new snapshot, until ``lock_wait_s`` is spent.
        """
        self._ensure_migrated()
        return self._transact(work)

    def execute(self, sql: str, params: Sequence | None = None) -> None:
        """One write statement, in a transaction of its own."""
        self.write(lambda con: con.execute(sql, params))

    def _transact(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        deadline = time.monotonic() + self.lock_wait_s
        while True:
            con = self._open(False)
            try:
                con.execute("BEGIN TRANSACTION")
                result = work(con)
                con.execute("COMMIT")
                return result
            except Exception as exc:
                with suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
                    con.execute("ROLLBACK")
                if not (isinstance(exc, duckdb.TransactionException) and lake.is_conflict(exc)) or time.monotonic() >= deadline:
                    raise
            finally:
                con.close()
            time.sleep(random.uniform(0.05, 0.5))  # apart, so the writers that lost do not meet again at once

    def query(self, sql: str, params: Sequence | None = None) -> pa.Table:
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=params or None).to_arrow_table()

    def rows(self, sql: str, params: Sequence | None = None) -> list[dict]:
        return self.query(sql, params).to_pylist()

    def rows_of_tickets(self, ticket_ids: list[str], sql: str, params: Sequence | None = None) -> list[dict]:
        """The rows of ``sql``, which joins the table ``ids`` (its one column: ticket_id): a few tickets of a large day are
        read by a join, not a long IN list."""
        with self.connect(read_only=True) as con:
            con.register("ids", pa.table({"ticket_id": pa.array(ticket_ids, pa.string())}))
            return con.sql(sql, params=params or None).to_arrow_table().to_pylist()

    def blocks(self, sql: str, params: list, block: int, key: str = "ticket_id",
               first: str | None = None, until: str | None = None) -> Iterator[list[dict]]:
        """The rows of ``sql`` (which ends in a WHERE clause) ``block`` at a time in order of ``key``, by keyset
        pagination: each block is read on its own short connection, so no lock is held between blocks. With ``first``
        or ``until``, only the rows with ``first <= key < until`` (a chunk's)."""
        for bound, compare in ((first, ">="), (until, "<")):
            if bound is not None:
                sql, params = f"{sql} AND {key} {compare} ?", [*params, bound]
        after = ""
        while rows := self.rows(f"{sql} AND {key} > ? ORDER BY {key} LIMIT ?", [*params, after, block]):
            yield rows
            after = rows[-1][key]

    def day_frame(self, table: str, day: date):
        """A day of ``table`` as a pandas frame, every column (for the Great Expectations suites)."""
        return self.query(f"SELECT * FROM {TABLES[table].name} WHERE day = ?", [day]).to_pandas()

    def replace_day(self, day: date, tables: dict[str, list[dict]]) -> None:
        """Replace one day's rows of each table in one transaction: reruns never duplicate."""
        def replace(con: duckdb.DuckDBPyConnection) -> None:
            for name, rows in tables.items():
                con.execute(f"DELETE FROM {TABLES[name].name} WHERE day = ?", [day])
                if rows:
                    con.register("incoming", pa.Table.from_pylist(rows, schema=TABLES[name].arrow))
                    con.execute(f"INSERT INTO {TABLES[name].name} BY NAME SELECT * FROM incoming")
                    con.unregister("incoming")

        self.write(replace)

    def replace_day_in_blocks(self, day: date, table: str, blocks: Iterable[list[dict]]) -> int:
        """Replace one day's rows of ``table`` with rows made a block at a time; returns how many.

        Each block is spooled to a Parquet file as it comes, and all go in at the end in one transaction: a day of any
        size holds one block in memory, readers never see half a day, and the blocks may be made from reads of this file.
        """
        stored = 0
        with tempfile.TemporaryDirectory(prefix="nightshift-rows-") as spool:
            for number, rows in enumerate(blocks):
                if rows:
                    pq.write_table(pa.Table.from_pylist(rows, schema=TABLES[table].arrow), f"{spool}/{number:06d}.parquet")
                    stored += len(rows)
            def replace(con: duckdb.DuckDBPyConnection) -> None:
                con.execute(f"DELETE FROM {TABLES[table].name} WHERE day = ?", [day])
                if stored:
                    con.execute(f"INSERT INTO {TABLES[table].name} BY NAME SELECT * FROM read_parquet('{spool}/*.parquet')")

            self.write(replace)
        return stored

    def insert(self, table: str, rows: list[dict]) -> None:
        """Append rows; columns they leave out take the table's defaults."""
        if not rows:
            return
        self.write(lambda con: con.register("incoming", pa.Table.from_pylist(rows)).execute(
            f"INSERT INTO {TABLES[table].name} BY NAME SELECT * FROM incoming"))
