"""The LanceDB store: vectors keyed by a stable id, replaced one day at a time."""

from __future__ import annotations

from datetime import date

import dagster as dg
import lancedb
import numpy as np
import pyarrow as pa
from pydantic import Field

EMBEDDINGS = "ticket_embeddings"
REPLIES = "reply_embeddings"  # the replies cached_answers embedded, by day, for its next run of the day


def day_filter(day: date) -> str:
    # Safe to inline: a date object renders only as YYYY-MM-DD.
    return f"day = '{day.isoformat()}'"


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def id_range(first: str | None, until: str | None) -> str:
    """A filter for ``first <= ticket_id < until`` (either side may be open)."""
    bounds = ([f"ticket_id >= {sql_string(first)}"] if first is not None else []) + (
        [f"ticket_id < {sql_string(until)}"] if until is not None else [])
    return " AND ".join(bounds) or "true"


def matrix_of(rows: pa.Table) -> np.ndarray:
    """The `vector` column as one float32 matrix, without a Python list per vector."""
    if not rows.num_rows:
        return np.zeros((0, 0), np.float32)
    return rows["vector"].combine_chunks().flatten().to_numpy().reshape(rows.num_rows, -1)


def by_id(rows: pa.Table) -> dict[str, np.ndarray]:
    """Rows of (ticket_id, vector) as a dict of rows of one matrix."""
    return dict(zip(rows["ticket_id"].to_pylist(), matrix_of(rows)))


class LanceDBStore(dg.ConfigurableResource):
    """A LanceDB database directory (local path or object-store URI)."""

    uri: str = Field(description="LanceDB directory or URI, e.g. ~/.nightshift/lancedb or s3://bucket/lancedb.")
    storage_options: dict[str, str] = Field(default_factory=dict, description="Object-store options (an S3-compatible "
                                            "endpoint); credentials stay in the usual AWS_* variables.")

    def db(self):
        return lancedb.connect(self.uri, storage_options=self.storage_options or None)

    def table(self, name: str):
        """The table, or None before anything was written to it."""
        try:
            return self.db().open_table(name)
        except ValueError:
            return None

    def day_rows(self, table: str, day: date, columns: list[str], also: str = "true") -> pa.Table | None:
        """The day's rows (those that match ``also`` too), or None before the table exists."""
        opened = self.table(table)
        if opened is None:
            return None
        return opened.search().where(f"{day_filter(day)} AND {also}").select(columns).limit(None).to_arrow()

    def vectors(self, table: str, day: date) -> dict[str, np.ndarray]:
        """Ticket id -> vector, for a day."""
        rows = self.day_rows(table, day, ["ticket_id", "vector"])
        return by_id(rows) if rows is not None else {}

    def vectors_of(self, table: str, ids: list[str], chunk: int = 5000) -> dict[str, np.ndarray]:
        """Ticket id -> vector for these ids only (ids not stored are absent): reads what it needs, not the table."""
        opened = self.table(table) if ids else None
        found: dict[str, np.ndarray] = {}
        if opened is None:
            return found
        for start in range(0, len(ids), chunk):
            quoted = ", ".join("'" + i.replace("'", "''") + "'" for i in ids[start:start + chunk])
            found.update(by_id(opened.search().where(f"ticket_id IN ({quoted})").select(["ticket_id", "vector"]).limit(None).to_arrow()))
        return found

    def dimensions(self, table: str, ticket_id: str) -> int | None:
        """How many dimensions a ticket's stored vector has; None when it has none."""
        vector = self.vectors_of(table, [ticket_id]).get(ticket_id)
        return None if vector is None else len(vector)

    def add(self, table: str, rows: pa.Table) -> None:
        """Append rows (a block of a day) to the table, made with their schema when it is new."""
        target = self.db().create_table(table, schema=rows.schema, exist_ok=True)
        if target.schema != rows.schema:
            raise ValueError(
                f"LanceDB table {table!r} has schema {target.schema}, the new rows have {rows.schema}: "
                "a different embedding model needs its own table or a fresh store"
            )
        target.add(rows)

    def upsert(self, table: str, rows: pa.Table, key: str = "ticket_id") -> None:
        """Insert rows, replacing those with the same ``key``, in one commit: a reader sees the old row or the new."""
        opened = self.table(table)
        if opened is None:
            self.add(table, rows)
        else:
            opened.merge_insert(key).when_matched_update_all().when_not_matched_insert_all().execute(rows)

    def delete_day_except(self, table: str, day: date, kept: set[str], chunk: int = 5000) -> int:
        """Delete the day's rows whose ticket id is not in ``kept`` (tickets gone from the day); returns how many."""
        rows = self.day_rows(table, day, ["ticket_id"])
        gone = sorted(set(rows["ticket_id"].to_pylist()) - kept) if rows is not None else []
        for start in range(0, len(gone), chunk):
            self.table(table).delete(f"{day_filter(day)} AND ticket_id IN ({', '.join(map(sql_string, gone[start:start + chunk]))})")
        return len(gone)

    def delete_day(self, table: str, day: date) -> None:
        opened = self.table(table)
        if opened is not None:
            opened.delete(day_filter(day))
