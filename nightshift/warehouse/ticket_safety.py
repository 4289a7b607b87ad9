"""SafetySQL: every query of `ticket_safety`, what the safety stage found on each ticket."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from nightshift.warehouse.database import Warehouse


class SafetySQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def to_classify(self, day: date) -> list[dict]:
        """The day's flagged and sampled tickets, with their route and the redacted text the classifier reads."""
        return self.db.rows(
            "SELECT s.ticket_id, t.route, k.text_redacted FROM ticket_safety s JOIN ticket_triage t USING (ticket_id, day) "
            "JOIN tickets k USING (ticket_id, day) WHERE s.day = ? AND (s.prefilter IS NOT NULL OR s.sampled) ORDER BY s.ticket_id", [day])

    def record_verdicts(self, day: date, verdicts: list[dict]) -> None:
        """verdicts: ticket_id, verdict, verdict_reason, verdict_model, verdict_usd; tickets left out keep what they had."""
        if not verdicts:
            return
        self.db.write(lambda con: con.register("incoming", pa.Table.from_pylist(verdicts)).execute(
            "UPDATE ticket_safety s SET verdict = v.verdict, verdict_reason = v.verdict_reason, verdict_model = v.verdict_model, "
            "verdict_usd = v.verdict_usd FROM incoming v WHERE s.day = ? AND s.ticket_id = v.ticket_id", [day]))

    def summary(self, day: date) -> dict:
        row = self.db.rows(
            "SELECT count(*) FILTER (WHERE prefilter IS NOT NULL) AS prefiltered, count(*) FILTER (WHERE sampled) AS sampled, "
            "count(*) FILTER (WHERE verdict IS NOT NULL) AS classified, count(*) FILTER (WHERE verdict <> '') AS classifier_flagged, "
            "count(*) FILTER (WHERE prefilter IS NOT NULL AND verdict <> '') AS confirmed, "
            "count(*) FILTER (WHERE sampled AND verdict <> '') AS missed_by_prefilter, coalesce(sum(verdict_usd), 0) AS usd "
            "FROM ticket_safety WHERE day = ?", [day])[0]
        return {k: round(float(v), 6) if k == "usd" else int(v or 0) for k, v in row.items()}
