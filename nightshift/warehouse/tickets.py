"""TicketsSQL: every query of `tickets` and `tickets_quarantine`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from nightshift.warehouse.database import Warehouse


class TicketsSQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def replace_day(self, day: date, tickets: list[dict], quarantine: list[dict]) -> None:
        self.db.replace_day(day, {"tickets": tickets, "tickets_quarantine": quarantine})

    def counts(self, day: date) -> tuple[int, int]:
        """Stored and quarantined rows of the day, read back."""
        row = self.db.rows("SELECT (SELECT count(*) FROM tickets WHERE day = $1) AS stored, "
                           "(SELECT count(*) FROM tickets_quarantine WHERE day = $1) AS quarantined", [day])[0]
        return row["stored"], row["quarantined"]

    def stored_elsewhere(self, ticket_ids: list[str], day: date) -> dict[str, date]:
        """For ids already stored under another day: that day."""
        if not ticket_ids:
            return {}
        rows = self.db.rows_of_tickets(ticket_ids, "SELECT ticket_id, day FROM tickets JOIN ids USING (ticket_id) WHERE day <> ?", [day])
        return {r["ticket_id"]: r["day"] for r in rows}

    def hashes(self, day: date) -> dict[str, str]:
        """Ticket id -> hash of its redacted text, for the day."""
        with self.db.connect(read_only=True) as con:
            return dict(con.execute("SELECT ticket_id, text_hash FROM tickets WHERE day = ?", [day]).fetchall())

    def texts(self, day: date, block: int, first: str | None = None, until: str | None = None) -> Iterator[list[dict]]:
        """The day's redacted texts and their hashes (what is embedded), those with ``first <= ticket_id < until`` where
        given, ``block`` tickets at a time: each block is read on its own short connection, so no lock is held between
        blocks."""
        return self.db.blocks("SELECT ticket_id, text_redacted, text_hash FROM tickets WHERE day = ?", [day], block,
                              first=first, until=until)

    def chunk_starts(self, day: date, size: int) -> list[str]:
        """The first ticket id of every ``size`` tickets of the day, in id order (where its chunks begin)."""
        rows = self.db.rows("SELECT ticket_id FROM (SELECT ticket_id, row_number() OVER (ORDER BY ticket_id) - 1 AS n "
                            "FROM tickets WHERE day = ?) WHERE n % ? = 0 ORDER BY ticket_id", [day, size])
        return [r["ticket_id"] for r in rows]

    def texts_of(self, day: date, ticket_ids: list[str]) -> dict[str, str]:
        """Ticket id -> redacted text, for these tickets of the day."""
        rows = self.db.rows_of_tickets(ticket_ids, "SELECT ticket_id, text_redacted FROM tickets JOIN ids USING (ticket_id) WHERE day = ?", [day])
        return {r["ticket_id"]: r["text_redacted"] for r in rows}

    def training_window(self, day: date, per_label: int, days: int) -> list[dict]:
        """What the triage model of ``day`` learns from: per label (unlabelled counting as one), the latest ``per_label``
        tickets of the ``days`` days up to and including ``day``."""
        return self.db.rows(
            "SELECT ticket_id, text_redacted, text_hash, label, priority FROM ("
            "  SELECT *, row_number() OVER (PARTITION BY label ORDER BY day DESC, created_at DESC, ticket_id DESC) AS recency"
            "  FROM tickets WHERE day <= $1 AND day > $1 - $2::INTEGER"
            ") WHERE recency <= $3 ORDER BY ticket_id", [day, days, per_label])

    def to_triage(self, day: date) -> list[dict]:
        return self.db.rows("SELECT ticket_id, text_redacted, coalesce(body, subject) AS body, label, priority FROM tickets "
                            "WHERE day = ? ORDER BY ticket_id", [day])
