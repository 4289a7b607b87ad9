"""QualitySQL: every query of `answer_quality`, the judge's verdicts on sampled cheap answers."""

from __future__ import annotations

from datetime import date

from nightshift.lib.stats import Share, wilson
from nightshift.warehouse.database import Warehouse


class QualitySQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def replace_day(self, day: date, rows: list[dict]) -> None:
        self.db.replace_day(day, {"answer_quality": rows})

    def agreement(self, after: date, until: date) -> dict[str, Share]:
        """Per cheap route, judged answers that agreed with the frontier model's, over the days after `after` up to `until`."""
        rows = self.db.rows("SELECT route, count(*) FILTER (WHERE agrees) AS hits, count(*) AS n FROM answer_quality "
                            "WHERE status = 'judged' AND day > ? AND day <= ? GROUP BY route", [after, until])
        return {r["route"]: wilson(int(r["hits"]), int(r["n"])) for r in rows}

    def supported(self, after: date, until: date) -> dict[str, Share]:
        """Per cheap route, judged answers whose every claim the cited passages backed, over the same kind of window."""
        rows = self.db.rows("SELECT route, count(*) FILTER (WHERE supported) AS hits, count(*) AS n FROM answer_quality "
                            "WHERE status = 'judged' AND supported IS NOT NULL AND day > ? AND day <= ? GROUP BY route", [after, until])
        return {r["route"]: wilson(int(r["hits"]), int(r["n"])) for r in rows}

    def day(self, day: date) -> list[dict]:
        return self.db.rows("SELECT * FROM answer_quality WHERE day = ? ORDER BY route, ticket_id", [day])

    def cache_records(self, entry_ids: list[str], before: date) -> dict[str, tuple[int, int]]:
        """Per cache entry (ids given once each), its judged serves on days before ``before``: (correct, wrong)."""
        rows = self.db.rows_of_tickets(
            entry_ids, "SELECT t.cache_entry_id AS entry_id, count(*) FILTER (WHERE q.agrees) AS correct, "
            "count(*) FILTER (WHERE NOT q.agrees) AS wrong FROM answer_quality q JOIN ticket_triage t USING (ticket_id, day) "
            "JOIN ids ON ids.ticket_id = t.cache_entry_id WHERE q.route = 'cache' AND q.status = 'judged' AND q.day < ? GROUP BY 1",
            [before])
        return {r["entry_id"]: (int(r["correct"]), int(r["wrong"])) for r in rows}

    def wrong_serves(self, after: date, until: date) -> Share:
        """Judged cache serves that were wrong, over the days after `after` up to `until`: the rate the error bound caps."""
        row = self.db.rows("SELECT count(*) FILTER (WHERE NOT agrees) AS wrong, count(*) AS n FROM answer_quality "
                           "WHERE route = 'cache' AND status = 'judged' AND day > ? AND day <= ?", [after, until])[0]
        return wilson(int(row["wrong"]), int(row["n"]))

    def rejected(self, day: date) -> int:
        return int(self.db.rows("SELECT count(*) AS n FROM answer_quality WHERE day = ? AND NOT agrees", [day])[0]["n"])
