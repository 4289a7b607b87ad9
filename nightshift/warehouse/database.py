"""The DuckDB file: opened per operation, read-only for reads, migrated once per process before the first write."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

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

    def day_frame(self, table: str, day: date):
        """A day of ``table`` as a pandas frame, every column (for the Great Expectations suites)."""
        return self.query(f"SELECT * FROM {TABLES[table].name} WHERE day = ?", [day]).to_pandas()

    def replace_day(self, day: date, tables: dict[str, list[dict]]) -> None:
        """Replace one day's rows of each table in one transaction: reruns never duplicate."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for name, rows in tables.items():
                    con.execute(f"DELETE FROM {TABLES[name].name} WHERE day = ?", [day])
                    if rows:
                        incoming = pa.Table.from_pylist(rows, schema=TABLES[name].arrow)  # noqa: F841 (scanned by name below)
                        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def insert(self, table: str, rows: list[dict]) -> None:
        """Append rows; columns they leave out take the table's defaults."""
        if not rows:
            return
        with self.connect() as con:
            incoming = pa.Table.from_pylist(rows)  # noqa: F841 (scanned by name below)
            con.execute(f"INSERT INTO {TABLES[table].name} BY NAME SELECT * FROM incoming")
