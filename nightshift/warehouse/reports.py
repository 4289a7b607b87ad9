"""ReportsSQL: every query of `daily_cost_and_quality` and `check_results`."""

from __future__ import annotations

from datetime import date

import duckdb

from nightshift.warehouse.database import Warehouse

# A day's figures from every table that has them; $ and tokens come from the ledger.
QUALITY = """
SELECT
    (SELECT count(*) FROM ticket_triage WHERE day = $1) AS tickets,
    (SELECT count(*) FILTER (WHERE route = 'cache') FROM ticket_triage WHERE day = $1) AS route_cache,
    (SELECT count(*) FILTER (WHERE route = 'small_model') FROM ticket_triage WHERE day = $1) AS route_small_model,
    (SELECT count(*) FILTER (WHERE route = 'frontier') FROM ticket_triage WHERE day = $1) AS route_frontier,
    (SELECT count(*) FILTER (WHERE route = 'realtime') FROM ticket_triage WHERE day = $1) AS route_realtime,
    (SELECT avg(confidence) FROM ticket_triage WHERE day = $1) AS mean_confidence,
    (SELECT count(*) FILTER (WHERE status = 'ok') FROM ticket_responses WHERE day = $1) AS answered,
    (SELECT count(*) FILTER (WHERE status = 'failed') FROM ticket_responses WHERE day = $1) AS failed,
    (SELECT count(*) FILTER (WHERE status = 'pending') FROM ticket_responses WHERE day = $1) AS pending,
    (SELECT avg(needs_human::INTEGER) FROM ticket_responses WHERE day = $1 AND status = 'ok') AS needs_human_share,
    (SELECT avg(grounded::INTEGER) FROM ticket_responses WHERE day = $1 AND status = 'ok' AND route = 'cache') AS grounded_cache,
    (SELECT avg(grounded::INTEGER) FROM ticket_responses WHERE day = $1 AND status = 'ok' AND route = 'small_model') AS grounded_small_model,
    (SELECT avg(grounded::INTEGER) FROM ticket_responses WHERE day = $1 AND status = 'ok' AND route = 'frontier') AS grounded_frontier,
    (SELECT avg(grounded::INTEGER) FROM ticket_responses WHERE day = $1 AND status = 'ok' AND route = 'realtime') AS grounded_realtime,
    (SELECT count(*) FILTER (WHERE status = 'ok') / nullif(count(*), 0) FROM llm_requests
        WHERE day = $1 AND status IN ('ok', 'invalid')) AS valid_json_rate,
    (SELECT count(*) FROM llm_batches WHERE day = $1) AS batches,
    (SELECT coalesce(max(attempt), 0) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL) AS max_attempt,
    (SELECT max(epoch(finished_at) - epoch(submitted_at)) FROM llm_batches WHERE day = $1) AS batch_turnaround_s,
    (SELECT count(*) FROM check_results WHERE day = $1) AS checks,
    (SELECT count(*) FILTER (WHERE passed) FROM check_results WHERE day = $1) AS checks_passed,
    (SELECT avg(passed::INTEGER) FROM check_results WHERE day = $1) AS check_pass_rate,
    (SELECT count(*) FILTER (WHERE cache_probe) FROM ticket_triage WHERE day = $1) AS cache_probes,
    (SELECT count(*) FROM answer_quality WHERE day = $1 AND route = 'cache' AND status = 'judged') AS cache_judged_serves,
    (SELECT count(*) FILTER (WHERE NOT agrees) FROM answer_quality WHERE day = $1 AND route = 'cache' AND status = 'judged') AS cache_wrong_serves,
    (SELECT count(*) FROM ticket_responses WHERE day = $1 AND route = 'cache' AND replaced_because IS NOT NULL) AS cache_withdrawn,
    (SELECT max(floor) FROM cache_admissions WHERE day = $1) AS relevance_floor
"""


class ReportsSQL:
    def __init__(self, db: Warehouse):
        self.db = db

    def quality(self, day: date) -> dict:
        return self.db.rows(QUALITY, [day])[0]

    def replace_day(self, day: date, row: dict) -> None:
        self.db.replace_day(day, {"daily_cost_and_quality": [row]})

    def checks_of(self, day: date) -> list[dict]:
        """The day's checks as last evaluated: name, passed, severity."""
        return self.db.rows("SELECT check_name, passed, severity FROM check_results WHERE day = ? ORDER BY check_name", [day])

    def days(self, after: date, until: date | None = None) -> list[dict]:
        """Cost-and-quality rows of the days after `after` (up to and including `until`)."""
        if until is None:
            return self.db.rows("SELECT * FROM daily_cost_and_quality WHERE day > ? ORDER BY day", [after])
        return self.db.rows("SELECT * FROM daily_cost_and_quality WHERE day > ? AND day <= ? ORDER BY day", [after, until])

    def record_check(self, day: date, asset: str, check_name: str, passed: bool, severity: str, metadata: str) -> None:
        """The day's outcome of a check, replacing an earlier evaluation; the day's cost-and-quality row, if written
        already, counts it (a check that runs after the row is computed would otherwise be missing from it)."""
        def replace(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM check_results WHERE day = ? AND check_name = ?", [day, check_name])
            con.execute("INSERT INTO check_results (day, asset, check_name, passed, severity, metadata) VALUES (?, ?, ?, ?, ?, ?)",
                        [day, asset, check_name, passed, severity, metadata])
            con.execute("UPDATE daily_cost_and_quality SET checks = c.checks, checks_passed = c.passed, check_pass_rate = c.rate "
                        "FROM (SELECT count(*) AS checks, count(*) FILTER (WHERE passed) AS passed, avg(passed::INTEGER) AS rate "
                        "FROM check_results WHERE day = $1) c WHERE day = $1", [day])

        self.db.write(replace)
