"""AnswersSQL: every query of `ticket_responses`, `digest_material` and `daily_digests`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from nightshift.triage.admission import REASONS
from nightshift.warehouse.database import Warehouse


class AnswersSQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def replace_day(self, day: date, blocks: Iterable[list[dict]]) -> int:
        """The day's responses, made a block of tickets at a time; returns how many."""
        return self.db.replace_day_in_blocks(day, "ticket_responses", blocks)

    def summary(self, day: date) -> dict:
        """The day's responses in figures: tickets per status, answers served from the cache, tokens and $ summed, and the
        mean attempts of those a model was asked for."""
        return self.db.rows(
            "SELECT count(*) AS tickets, "
            + "".join(f"count(*) FILTER (WHERE status = '{s}') AS status_{s}, " for s in ("ok", "pending", "failed", "held"))
            + "count(*) FILTER (WHERE source = 'cache' AND status = 'ok') AS cache_served, "
            "count(*) FILTER (WHERE route = 'cache' AND replaced_because IS NOT NULL) AS cache_withdrawn, "
            "coalesce(sum(usd), 0) AS usd, coalesce(sum(frontier_sync_usd), 0) AS frontier_sync_usd, "
            "coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens, "
            "coalesce(avg(attempts) FILTER (WHERE source <> 'cache'), 0) AS mean_attempts "
            "FROM ticket_responses WHERE day = ?", [day])[0]

    def with_status(self, day: date, status: str, limit: int) -> list[dict]:
        """The day's first ``limit`` responses of a status: ticket, route, attempts, error and why held."""
        return self.db.rows("SELECT ticket_id, route, attempts, error, hold_reason FROM ticket_responses "
                            "WHERE day = ? AND status = ? ORDER BY ticket_id LIMIT ?", [day, status, limit])

    def ok(self, day: date) -> list[dict]:
        """The day's answers marked ok, with the text that would reach a customer."""
        return self.db.rows("SELECT ticket_id, response, summary, draft_reply FROM ticket_responses "
                            "WHERE day = ? AND status = 'ok' ORDER BY ticket_id", [day])

    def by_ticket(self, day: date, ticket_ids: list[str]) -> dict[str, dict]:
        """These tickets' responses of the day: route, status, who answered (and the cache entry served), the JSON answer
        and the error."""
        rows = self.db.rows_of_tickets(ticket_ids, "SELECT ticket_id, route, status, model, coalesce(model_asked, model) AS model_asked, "
                                       "cache_entry_id, prompt_version, response, "
                                       "error, replaced_because, replaced_response FROM ticket_responses JOIN ids USING (ticket_id) "
                                       "WHERE day = ?", [day])
        return {r["ticket_id"]: r for r in rows}

    def cache_served(self, day: date) -> dict[str, dict]:
        """The day's cache-route responses as they stand (answer, source, model and what was taken back), by ticket: what
        a later collection keeps when the entry that served one has left the cache since."""
        rows = self.db.rows("SELECT ticket_id, status, source, model, coalesce(model_asked, model) AS model_asked, response, "
                            "replaced_response FROM ticket_responses "
                            "WHERE day = ? AND route = 'cache'", [day])
        return {r["ticket_id"]: r for r in rows}

    def fresh_for_cache(self, day: date, block: int, first: str | None = None, until: str | None = None) -> Iterator[list[dict]]:
        """The day's model answers (not themselves served from the cache; those of tickets ``first <= ticket_id < until``
        where given), ``block`` at a time, with what the cache's admission rules read: the route and status, the
        category the ticket was triaged under, the ticket as written and redacted, what the safety stage found, the
        passages it was offered, and the judge's verdict when it was sampled."""
        return self.db.blocks(
            "SELECT ticket_id, r.route, r.source, r.status, r.prompt_version, r.model, coalesce(r.model_asked, r.model) AS model_asked, "
            "r.response, r.replaced_response, t.category, k.subject, k.body, "
            "k.text_redacted, s.prefilter, s.verdict, q.agrees AS judged, "
            "(SELECT string_agg(c.text, ' ') FROM ticket_context c WHERE c.day = r.day AND c.ticket_id = r.ticket_id) AS help_text "
            "FROM ticket_responses r JOIN ticket_triage t USING (ticket_id, day) JOIN tickets k USING (ticket_id, day) "
            "LEFT JOIN ticket_safety s USING (ticket_id, day) "
            "LEFT JOIN answer_quality q ON q.day = r.day AND q.ticket_id = r.ticket_id AND q.status = 'judged' "
            "WHERE r.day = ? AND r.source NOT IN ('cache', 'human') AND r.response IS NOT NULL",
            [day], block, first=first, until=until)

    def replace_admissions(self, day: date, rows: list[dict]) -> None:
        self.db.replace_day(day, {"cache_admissions": rows})

    def admissions(self, day: date) -> dict:
        """The day's admissions in figures: admitted, on probation, refused, and refused per reason kind."""
        return self.db.rows(
            "SELECT count(*) FILTER (WHERE admitted) AS cache_admitted, count(*) FILTER (WHERE trust = 'probation') AS cache_probation, "
            "count(*) FILTER (WHERE NOT admitted) AS cache_refused, "
            + ", ".join(f"count(*) FILTER (WHERE '; ' || reasons LIKE '%; {kind}:%') AS refused_{kind}" for kind in REASONS)
            + " FROM cache_admissions WHERE day = ?", [day])[0]

    def needing_people(self, day: date) -> dict:
        return self.db.rows(
            "SELECT count(*) AS tickets, count(*) FILTER (WHERE needs_human) AS flagged, count(*) FILTER (WHERE status = 'failed') AS failed "
            "FROM ticket_responses WHERE day = ?", [day])[0]

    def replace_material(self, day: date, row: dict) -> None:
        """The day's themes and spikes, found once when the digest request is built and read back when it is written up."""
        self.db.replace_day(day, {"digest_material": [row]})

    def material(self, day: date) -> dict | None:
        rows = self.db.rows("SELECT tickets, themes, spikes FROM digest_material WHERE day = ?", [day])
        return rows[0] if rows else None

    def replace_digest(self, day: date, row: dict) -> None:
        self.db.replace_day(day, {"daily_digests": [row]})

    def grounded(self, day: date) -> dict[str, tuple[float, int]]:
        """Per route, the share of ok answers that cite a current passage, of those that had passages to cite, and how many."""
        rows = self.db.rows("SELECT route, avg(grounded::INTEGER) AS share, count(*) AS n FROM ticket_responses "
                            "WHERE day = ? AND status = 'ok' AND grounded IS NOT NULL GROUP BY route ORDER BY route", [day])
        return {r["route"]: (float(r["share"]), int(r["n"])) for r in rows}
