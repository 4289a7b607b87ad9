"""TriageSQL: every query of `ticket_triage`, the routes a day's tickets took."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

from nightshift.warehouse.database import Warehouse

TRIAGED = ("SELECT ticket_id, t.route, t.reason, t.category, t.cache_entry_id, coalesce(t.cache_probe, false) AS cache_probe, "
           "coalesce(t.gate_probe, false) AS gate_probe, k.text_redacted FROM ticket_triage t JOIN tickets k USING (ticket_id, day)")


class TriageSQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def replace_day(self, day: date, rows: list[dict], screened: list[dict] | None = None) -> None:
        """The day's routes, and (when given) what the safety stage found on each ticket, in one transaction."""
        self.db.replace_day(day, {"ticket_triage": rows, **({"ticket_safety": screened} if screened is not None else {})})

    def triaged(self) -> list[dict]:
        """Every triaged ticket of every day, as ``triaged_blocks`` gives them."""
        return self.db.rows(f"{TRIAGED} ORDER BY ticket_id")

    def triaged_blocks(self, day: date, block: int) -> Iterator[list[dict]]:
        """The day's tickets with their route and its reason, category, nearest cache entry and the redacted text a model
        may see, ``block`` at a time in ticket order."""
        return self.db.blocks(f"{TRIAGED} WHERE t.day = ?", [day], block)

    def labels(self, day: date) -> list[dict]:
        """The day's tickets with their route, category, triage's confidence, whether it is a probe (of a cache entry on probation or of a
        gated category) and how many judged serves the cache entry it is served has: what samples and counts are drawn from."""
        return self.db.rows("SELECT ticket_id, route, category, confidence, coalesce(cache_probe, false) OR coalesce(gate_probe, false) AS probe, "
                            "coalesce(cache_judged, 0) AS cache_judged FROM ticket_triage WHERE day = ? ORDER BY ticket_id", [day])

    def served_from(self, day: date, ticket_ids: list[str]) -> dict[str, str]:
        """The cache entry each of these tickets of the day was served from, for those the cache served."""
        rows = self.db.rows_of_tickets(ticket_ids, "SELECT ticket_id, cache_entry_id FROM ticket_triage JOIN ids USING (ticket_id) "
                                       "WHERE day = ? AND route = 'cache'", [day])
        return {r["ticket_id"]: r["cache_entry_id"] for r in rows}

    def category_counts(self, first: date, end: date) -> Counter:
        """Triaged tickets per category over the days from `first` up to, not including, `end`."""
        rows = self.db.rows("SELECT category, count(*) AS n FROM ticket_triage WHERE day >= ? AND day < ? GROUP BY 1", [first, end])
        return Counter({r["category"]: r["n"] for r in rows})

    def still_to_pay(self, day: date) -> float:
        """Triage's estimate for each ticket not yet answered or in flight: what a submission now would add."""
        return float(self.db.rows(
            "SELECT coalesce(sum(expected_usd), 0) AS usd FROM ticket_triage t WHERE day = $1 AND NOT EXISTS ("
            "SELECT 1 FROM llm_requests r WHERE r.day = $1 AND r.ticket_id = t.ticket_id AND r.kind = 'reply' AND r.superseded_at IS NULL "
            "AND r.status IN ('ok', 'submitted'))", [day])[0]["usd"])
