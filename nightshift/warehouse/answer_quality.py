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

    def agreement_by_category(self, after: date, until: date) -> dict[tuple[str, str], Share]:
        """Per cheap route and the category triage gave the ticket, judged answers that agreed, over the same window."""
        rows = self.db.rows("SELECT q.route, t.category, count(*) FILTER (WHERE q.agrees) AS hits, count(*) AS n FROM answer_quality q "
                            "JOIN ticket_triage t USING (ticket_id, day) WHERE q.status = 'judged' AND q.day > ? AND q.day <= ? "
                            "GROUP BY ALL", [after, until])
        return {(r["route"], r["category"]): wilson(int(r["hits"]), int(r["n"])) for r in rows}

    def supported(self, after: date, until: date) -> dict[str, Share]:
        """Per cheap route, judged answers whose every claim the cited passages backed, over the same kind of window."""
        rows = self.db.rows("SELECT route, count(*) FILTER (WHERE supported) AS hits, count(*) AS n FROM answer_quality "
                            "WHERE status = 'judged' AND supported IS NOT NULL AND day > ? AND day <= ? GROUP BY route", [after, until])
        return {r["route"]: wilson(int(r["hits"]), int(r["n"])) for r in rows}

    def evidence(self, after: date, until: date, judged_only: bool = False) -> list[dict]:
        """Every cheap answer of the days after `after` up to `until`, with its free signals (triage's confidence and
        category, the cache's similarity, the reply's relevance to its ticket and the floor), the category the cheap
        answer gave, whether it was shadowed and, when judged, whether the judge agreed.

        Only signals of the cheap answer as written, fixed before anyone judged it: an answer judged wrong is replaced,
        so its category and relevance are read from the answer taken back (replaced_response, cheap_relevance), else the
        signal would differ between judged and unjudged answers (PPI's correction assumes one rule for both).
        ``judged_only``: the judged answers alone."""
        return self.db.rows(
            "SELECT t.ticket_id, t.day, t.route, t.confidence, t.cache_similarity, t.category AS predicted, "
            "coalesce(t.cache_probe, false) OR coalesce(t.gate_probe, false) AS probe, "
            "t.cache_judged, "
            "json_extract_string(coalesce(r.replaced_response, r.response), '$.category') AS category, "
            # A cache serve is admitted nowhere, unless it was taken back (for a verdict): none has the signal, or the
            # judged would have it and the rest not.
            "CASE WHEN t.route = 'small_model' THEN a.cheap_relevance END AS relevance, a.floor, "
            "q.ticket_id IS NOT NULL AS sampled, CASE WHEN q.status = 'judged' THEN q.agrees END AS agrees "
            "FROM ticket_triage t JOIN ticket_responses r USING (ticket_id, day) LEFT JOIN cache_admissions a USING (ticket_id, day) "
            "LEFT JOIN answer_quality q ON q.ticket_id = t.ticket_id AND q.day = t.day AND q.route = t.route "
            "WHERE t.route IN ('cache', 'small_model') AND t.day > ? AND t.day <= ? "
            + ("AND q.status = 'judged' " if judged_only else "") + "ORDER BY t.day, t.route, t.ticket_id",
            [after, until])

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
