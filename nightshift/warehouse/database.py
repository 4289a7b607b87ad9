"""The DuckDB file: opened per operation, read-only for reads, migrated once per process before the first write."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from nightshift.warehouse.schema import MIGRATIONS, TABLES

# Files this process has brought up to date: the migrations run at most once per file and process.
_migrated: set[str] = set()
_migrating = threading.Lock()


def open_database(path: str, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting out another process's lock on the file.

    DuckDB lets one process at a time open a file for writing (or several for reading only). Runs
    of a backfill are separate processes, so a reader can meet a writer; writers keep their
    transactions short, and everyone else waits a little instead of failing the run.
    """
    deadline, delay = time.monotonic() + wait_s, 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations this file has not seen; returns its schema version."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp)")
    (current,) = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0]
    for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
        con.execute("BEGIN TRANSACTION")
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (version) VALUES (?)", [version])
        con.execute("COMMIT")
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
    """A DuckDB file holding tickets, quarantine and every later output table; the gateways query it."""

    def __init__(self, path: str | Path, lock_wait_s: float = 120.0):
        self.path = str(path)
        self.lock_wait_s = lock_wait_s

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        # Connections are opened per operation: DuckDB allows one writer per file, so nobody holds it long.
        if self.path not in _migrated or not Path(self.path).exists():
            self._migrate()
        con = open_database(self.path, read_only, self.lock_wait_s)
        try:
            yield con
        finally:
            con.close()

    def _migrate(self) -> None:
        with _migrating:
            if self.path in _migrated and Path(self.path).exists():
                return
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            con = open_database(self.path, False, self.lock_wait_s)
            try:
                migrate(con)
            finally:
                con.close()
            _migrated.add(self.path)

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

    def blocks(self, sql: str, params: list, block: int, key: str = "ticket_id") -> Iterator[list[dict]]:
        """The rows of ``sql`` (which ends in a WHERE clause) ``block`` at a time in order of ``key``, by keyset
        pagination: each block is read on its own short connection, so no lock is held between blocks."""
        after = ""
        while rows := self.rows(f"{sql} AND {key} > ? ORDER BY {key} LIMIT ?", [*params, after, block]):
            yield rows
            after = rows[-1][key]

    def day_frame(self, table: str, day: date):
        """A day of ``table`` as a pandas frame, every column (for the Great Expectations suites)."""
        return self.query(f"SELECT * FROM {TABLES[table].name} WHERE day = ?", [day]).to_pandas()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection in one transaction: committed when the block ends, rolled back if it raises."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def replace_day(self, day: date, tables: dict[str, list[dict]]) -> None:
        """Replace one day's rows of each table in one transaction: reruns never duplicate."""
        with self.transaction() as con:
            for name, rows in tables.items():
                con.execute(f"DELETE FROM {TABLES[name].name} WHERE day = ?", [day])
                if rows:
                    incoming = pa.Table.from_pylist(rows, schema=TABLES[name].arrow)  # noqa: F841 (scanned by name below)
                    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")

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
            with self.transaction() as con:
                con.execute(f"DELETE FROM {TABLES[table].name} WHERE day = ?", [day])
                if stored:
                    con.execute(f"INSERT INTO {TABLES[table].name} BY NAME SELECT * FROM read_parquet('{spool}/*.parquet')")
        return stored

    def insert(self, table: str, rows: list[dict]) -> None:
        """Append rows; columns they leave out take the table's defaults."""
        if not rows:
            return
        with self.connect() as con:
            incoming = pa.Table.from_pylist(rows)  # noqa: F841 (scanned by name below)
            con.execute(f"INSERT INTO {TABLES[table].name} BY NAME SELECT * FROM incoming")
