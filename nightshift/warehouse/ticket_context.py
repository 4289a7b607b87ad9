"""ContextSQL: every query of `ticket_context`, the knowledge-base passages retrieved for each ticket."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from nightshift.warehouse.database import Warehouse, tickets_within


class ContextSQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def replace_day(self, day: date, blocks: Iterable[list[dict]]) -> int:
        """The day's passages, found a block of tickets at a time; returns how many."""
        return self.db.replace_day_in_blocks(day, "ticket_context", blocks)

    def passages(self, day: date, within: tuple[str, str] | None = None) -> dict[str, list[dict]]:
        """Per ticket of the day (``within`` a first and last ticket id, when given), its passages best first (chunk id,
        title, text, article and version)."""
        found: dict[str, list[dict]] = defaultdict(list)
        where, params = tickets_within(within)
        for row in self.db.rows(f"SELECT * FROM ticket_context WHERE day = ?{where} ORDER BY ticket_id, rank", [day, *params]):
            found[row["ticket_id"]].append(row)
        return dict(found)

    def passage_counts(self, day: date) -> dict[str, int]:
        """Per ticket of the day with any passage, how many it has (routing needs no more)."""
        rows = self.db.query("SELECT ticket_id, count(*) AS n FROM ticket_context WHERE day = ? GROUP BY ticket_id", [day])
        return dict(zip(rows["ticket_id"].to_pylist(), rows["n"].to_pylist()))
