"""JourneySQL: what every table says about one ticket (its journey), and the day's failed tickets. Read only, across the
ticket families (the requests are the ledger's to read)."""

from __future__ import annotations

from datetime import date

from nightshift.warehouse.database import Warehouse


class JourneySQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def attempts_of(self, ticket_id: str) -> list[dict]:
        """Every request ever made about a ticket (reply, shadow, judge, safety), each attempt in the order it was sent,
        with its batch's status and whether it was rescued at a deadline; superseded ones too, marked so."""
        return self.db.rows(
            "SELECT r.kind, r.custom_id, r.attempt, r.mode, r.model, r.batch_id, b.status AS batch_status, r.status, r.error, "
            "r.input_tokens, r.cached_tokens, r.output_tokens, r.usd, r.rescued, r.submitted_at, r.finished_at, r.superseded_at "
            "FROM llm_requests r LEFT JOIN llm_batches b USING (batch_id) WHERE r.ticket_id = ? "
            "ORDER BY r.submitted_at, r.attempt, r.kind", [ticket_id])

    def of(self, ticket_id: str) -> dict | None:
        """The ticket as landed and redacted, its triage, safety findings and response (NULL where a stage has not run),
        the passages retrieved for it, and the checks recorded for its day."""
        rows = self.db.rows(
            "SELECT k.ticket_id, k.day, k.created_at, k.source_file, k.source_line, k.text_redacted, k.redactions, k.channel, "
            "t.category, t.confidence, t.route, t.reason, t.cache_ticket_id, t.cache_similarity, t.model_version, "
            "s.prefilter, s.noted, s.injection_score, s.sampled, s.verdict, s.verdict_reason, "
            "r.status, r.source, r.model, r.attempts, r.error, r.hold_reason, r.draft_reply, r.citations, r.cited_titles, "
            "r.grounded, r.cache_entry_id, r.input_tokens, r.output_tokens, r.usd, r.frontier_sync_usd, r.rescued, r.rescue_usd, "
            "r.replaced_because, t.cache_probe, a.admitted, a.trust, a.reasons AS refused_because "
            "FROM tickets k LEFT JOIN ticket_triage t USING (ticket_id, day) LEFT JOIN ticket_safety s USING (ticket_id, day) "
            "LEFT JOIN ticket_responses r USING (ticket_id, day) LEFT JOIN cache_admissions a USING (ticket_id, day) "
            "WHERE k.ticket_id = ?", [ticket_id])
        if not rows:
            return None
        journey = rows[0]
        journey["passages"] = self.db.rows("SELECT rank, chunk_id, title, similarity FROM ticket_context "
                                           "WHERE ticket_id = ? AND day = ? ORDER BY rank", [ticket_id, journey["day"]])
        journey["checks"] = self.db.rows("SELECT asset, check_name, passed, severity FROM check_results WHERE day = ? "
                                         "ORDER BY asset, check_name", [journey["day"]])
        return journey

    def failed(self, day: date) -> list[dict]:
        """The day's tickets whose answer failed, with the last error, and those held for a person, with why."""
        return self.db.rows("SELECT ticket_id, route, status, attempts, coalesce(error, hold_reason) AS reason "
                            "FROM ticket_responses WHERE day = ? AND status IN ('failed', 'held') ORDER BY status, ticket_id", [day])
