"""The DuckDB warehouse: every table users query, written one day at a time."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
from pydantic import Field

TICKETS = pa.schema([
    ("ticket_id", pa.string()), ("day", pa.date32()), ("created_at", pa.timestamp("us")),
    ("subject", pa.string()), ("body", pa.string()), ("text_redacted", pa.string()),
    ("text_hash", pa.string()), ("redactions", pa.int32()), ("customer", pa.string()),
    ("channel", pa.string()), ("label", pa.string()), ("priority", pa.string()),
    ("source_file", pa.string()), ("source_line", pa.int64()),
])
TRIAGE = pa.schema([
    ("ticket_id", pa.string()), ("day", pa.date32()), ("category", pa.string()), ("confidence", pa.float64()),
    ("priority", pa.string()), ("priority_source", pa.string()), ("route", pa.string()), ("reason", pa.string()),
    ("cache_ticket_id", pa.string()), ("cache_similarity", pa.float64()), ("nearest_known", pa.float64()),
    ("input_tokens", pa.int64()), ("expected_usd", pa.float64()), ("model_version", pa.string()),
    ("cache_entry_id", pa.string()),
])
RESPONSES = pa.schema([
    ("ticket_id", pa.string()), ("day", pa.date32()), ("route", pa.string()), ("status", pa.string()),
    ("source", pa.string()), ("model", pa.string()), ("prompt_version", pa.string()), ("summary", pa.string()),
    ("sentiment", pa.string()), ("category", pa.string()), ("draft_reply", pa.string()), ("needs_human", pa.bool_()),
    ("response", pa.string()), ("error", pa.string()), ("attempts", pa.int32()), ("batch_id", pa.string()),
    ("cache_entry_id", pa.string()), ("input_tokens", pa.int64()), ("output_tokens", pa.int64()),
    ("usd", pa.float64()), ("frontier_sync_usd", pa.float64()),
])
DIGESTS = pa.schema([
    ("day", pa.date32()), ("status", pa.string()), ("tickets", pa.int32()), ("headline", pa.string()),
    ("themes", pa.string()), ("spikes", pa.string()), ("digest", pa.string()), ("markdown", pa.string()),
    ("model", pa.string()), ("prompt_version", pa.string()), ("usd", pa.float64()),
])
COST_AND_QUALITY = pa.schema([
    ("day", pa.date32()), ("tickets", pa.int32()), ("route_cache", pa.int32()), ("route_small_model", pa.int32()),
    ("route_frontier", pa.int32()), ("route_realtime", pa.int32()), ("spent_usd", pa.float64()),
    ("baseline_usd", pa.float64()), ("saving", pa.float64()), ("tokens", pa.int64()), ("cache_hit_rate", pa.float64()),
    ("cache_false_hit_rate", pa.float64()), ("mean_confidence", pa.float64()), ("answered", pa.int32()),
    ("failed", pa.int32()), ("pending", pa.int32()), ("valid_json_rate", pa.float64()), ("needs_human_share", pa.float64()),
    ("batches", pa.int32()), ("max_attempt", pa.int32()), ("batch_turnaround_s", pa.float64()),
    ("checks", pa.int32()), ("checks_passed", pa.int32()), ("check_pass_rate", pa.float64()),
])
QUARANTINE = pa.schema([
    ("day", pa.date32()), ("source_file", pa.string()), ("source_line", pa.int64()),
    ("reason", pa.string()), ("raw", pa.string()),
])

DDL = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id VARCHAR NOT NULL,
    day DATE NOT NULL,               -- partition: the UTC day the ticket was created
    created_at TIMESTAMP NOT NULL,   -- UTC
    subject VARCHAR,
    body VARCHAR,                    -- original text: it never leaves this database
    text_redacted VARCHAR NOT NULL,  -- subject and body with PII replaced: what models see
    text_hash VARCHAR NOT NULL,
    redactions INTEGER NOT NULL,
    customer VARCHAR,
    channel VARCHAR,
    label VARCHAR,
    priority VARCHAR,
    source_file VARCHAR NOT NULL,
    source_line BIGINT,
    ingested_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS tickets_quarantine (
    day DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    source_line BIGINT,
    reason VARCHAR NOT NULL,
    raw VARCHAR,
    quarantined_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS ticket_triage (
    ticket_id VARCHAR NOT NULL,
    day DATE NOT NULL,
    category VARCHAR NOT NULL,       -- predicted by the triage model
    confidence DOUBLE NOT NULL,      -- its probability
    priority VARCHAR,
    priority_source VARCHAR,         -- 'ticket' (from the source system) or 'model'
    route VARCHAR NOT NULL,          -- cache | small_model | frontier | realtime
    reason VARCHAR NOT NULL,         -- the rule that decided
    cache_ticket_id VARCHAR,         -- nearest valid cache entry's source ticket
    cache_similarity DOUBLE,
    nearest_known DOUBLE,            -- similarity to the nearest ticket the model has seen
    input_tokens BIGINT NOT NULL,
    expected_usd DOUBLE NOT NULL,    -- estimate from the price table; synthesis records actuals
    model_version VARCHAR NOT NULL,
    triaged_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
ALTER TABLE ticket_triage ADD COLUMN IF NOT EXISTS cache_entry_id VARCHAR;  -- the cache entry a cache route serves
CREATE TABLE IF NOT EXISTS llm_batches (
    batch_id VARCHAR NOT NULL,       -- the provider's id
    day DATE NOT NULL,               -- the partition it answers for
    provider VARCHAR NOT NULL,       -- openai (or a compatible URL) | local
    model VARCHAR NOT NULL,
    prompt_versions VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,        -- 1, then one more per resubmission of failed lines
    input_file_id VARCHAR NOT NULL,
    output_file_id VARCHAR,
    error_file_id VARCHAR,
    status VARCHAR NOT NULL,         -- the provider's: validating ... completed | failed | expired | cancelled
    requests INTEGER NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    error VARCHAR,                   -- why the whole batch failed, if it did
    submitted_at TIMESTAMP NOT NULL,
    polled_at TIMESTAMP,
    finished_at TIMESTAMP,           -- first seen in a terminal status
    collected_at TIMESTAMP           -- results read into the ledger; null while the sensor watches it
);
CREATE TABLE IF NOT EXISTS llm_requests (
    custom_id VARCHAR NOT NULL,      -- the ticket id, or digest:<day>
    day DATE NOT NULL,
    kind VARCHAR NOT NULL,           -- reply | digest
    ticket_id VARCHAR,
    route VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    prompt_version VARCHAR NOT NULL,
    request_hash VARCHAR NOT NULL,   -- of the body: same ticket, prompt and model, same hash
    body VARCHAR NOT NULL,           -- the request as sent (redacted text only)
    mode VARCHAR NOT NULL,           -- batch | sync (realtime, full price)
    attempt INTEGER NOT NULL,
    batch_id VARCHAR,
    status VARCHAR NOT NULL,         -- submitted | ok | invalid | failed | expired | cancelled
    answer VARCHAR,                  -- the validated JSON answer
    error VARCHAR,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    usd DOUBLE NOT NULL DEFAULT 0,   -- from the usage the provider returned, at this mode's price
    frontier_sync_usd DOUBLE NOT NULL DEFAULT 0,  -- the same tokens on the frontier model, synchronously
    submitted_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    superseded_at TIMESTAMP          -- a rerun of the day asked something else for this custom_id
);
CREATE TABLE IF NOT EXISTS ticket_responses (
    ticket_id VARCHAR NOT NULL,
    day DATE NOT NULL,
    route VARCHAR NOT NULL,
    status VARCHAR NOT NULL,         -- ok | pending | failed
    source VARCHAR NOT NULL,         -- batch | sync | cache
    model VARCHAR,
    prompt_version VARCHAR NOT NULL,
    summary VARCHAR,
    sentiment VARCHAR,
    category VARCHAR,
    draft_reply VARCHAR,
    needs_human BOOLEAN,
    response VARCHAR,                -- the whole JSON answer
    error VARCHAR,                   -- the last attempt's error when status is failed
    attempts INTEGER NOT NULL,
    batch_id VARCHAR,
    cache_entry_id VARCHAR,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    usd DOUBLE NOT NULL,             -- every attempt's $, each counted once
    frontier_sync_usd DOUBLE NOT NULL,
    responded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS daily_digests (
    day DATE NOT NULL,
    status VARCHAR NOT NULL,         -- ok | pending | failed
    tickets INTEGER NOT NULL,
    headline VARCHAR,
    themes VARCHAR NOT NULL,         -- JSON: clusters with size, category, example tickets
    spikes VARCHAR NOT NULL,         -- JSON: categories that rose against the trailing week
    digest VARCHAR,                  -- the model's JSON answer
    markdown VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    prompt_version VARCHAR NOT NULL,
    usd DOUBLE NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS daily_cost_and_quality (
    day DATE NOT NULL,
    tickets INTEGER NOT NULL,
    route_cache INTEGER NOT NULL,
    route_small_model INTEGER NOT NULL,
    route_frontier INTEGER NOT NULL,
    route_realtime INTEGER NOT NULL,
    spent_usd DOUBLE NOT NULL,        -- every current request of the day, from returned usage
    baseline_usd DOUBLE NOT NULL,     -- every ticket and the digest synchronously on the frontier model
    saving DOUBLE NOT NULL,
    tokens BIGINT NOT NULL,
    cache_hit_rate DOUBLE NOT NULL,
    cache_false_hit_rate DOUBLE,      -- measured on labelled history by the day's triage model
    mean_confidence DOUBLE,
    answered INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    valid_json_rate DOUBLE,           -- answers that parsed against their schema, of all that came back
    needs_human_share DOUBLE,
    batches INTEGER NOT NULL,
    max_attempt INTEGER NOT NULL,
    batch_turnaround_s DOUBLE,        -- slowest batch of the day, submit to finish
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
ALTER TABLE daily_cost_and_quality ADD COLUMN IF NOT EXISTS checks INTEGER;  -- asset checks evaluated for the day so far
ALTER TABLE daily_cost_and_quality ADD COLUMN IF NOT EXISTS checks_passed INTEGER;
ALTER TABLE daily_cost_and_quality ADD COLUMN IF NOT EXISTS check_pass_rate DOUBLE;
CREATE TABLE IF NOT EXISTS check_results (
    day DATE NOT NULL,
    asset VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    passed BOOLEAN NOT NULL,
    severity VARCHAR NOT NULL,       -- ERROR | WARN
    metadata VARCHAR NOT NULL,       -- JSON: the check's figures, as in the Dagster UI
    evaluated_at TIMESTAMP NOT NULL DEFAULT current_timestamp  -- the latest evaluation replaces earlier ones
);
CREATE OR REPLACE VIEW check_pass_rates AS
SELECT day, count(*) AS checks, count(*) FILTER (WHERE passed) AS passed, avg(passed::INTEGER) AS pass_rate,
       coalesce(string_agg(check_name, ', ' ORDER BY check_name) FILTER (WHERE NOT passed), '') AS failing
FROM check_results GROUP BY day;
CREATE OR REPLACE VIEW cost_and_quality_totals AS
SELECT count(*) AS days, min(day) AS first_day, max(day) AS last_day, sum(tickets) AS tickets,
       sum(spent_usd) AS spent_usd, sum(baseline_usd) AS baseline_usd,
       1 - sum(spent_usd) / nullif(sum(baseline_usd), 0) AS saving, sum(tokens) AS tokens,
       sum(route_cache) / nullif(sum(tickets), 0) AS cache_hit_rate, sum(answered) AS answered, sum(failed) AS failed,
       max(batch_turnaround_s) AS max_batch_turnaround_s, sum(checks_passed) / nullif(sum(checks), 0) AS check_pass_rate
FROM daily_cost_and_quality;
"""


def open_database(path: str, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting out another process's lock on the file.

    DuckDB lets one process at a time open a file for writing (or several for reading only). Runs
    of a backfill are separate processes, so a reader can meet a writer; writers keep their
    transactions short, and everyone else waits a little instead of failing the run.
    """
    deadline, delay = time.monotonic() + wait_s, 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


class DuckDBWarehouse(dg.ConfigurableResource):
    """A DuckDB file holding tickets, quarantine and every later output table."""

    path: str = Field(description="Path of the DuckDB database file.")
    lock_wait_s: float = Field(default=120.0, description="How long to wait for another process's lock on the file.")

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        # Connections are opened per operation: DuckDB allows one writer per file, so nobody holds it long.
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = open_database(self.path, read_only, self.lock_wait_s)
        try:
            if not read_only:
                con.execute(DDL)
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: Sequence | None = None) -> pa.Table:
        with self.connect() as con:
            return con.sql(sql, params=params or None).to_arrow_table()

    def replace_day(self, day: date, tables: dict[str, tuple[list[dict], pa.Schema]]) -> None:
        """Replace one day's rows of each table in one transaction: reruns never duplicate."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for table, (rows, schema) in tables.items():
                    con.execute(f"DELETE FROM {table} WHERE day = ?", [day])
                    if rows:
                        incoming = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841 (scanned by name below)
                        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def record_check(self, day: date, asset: str, check_name: str, passed: bool, severity: str, metadata: str) -> None:
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM check_results WHERE day = ? AND check_name = ?", [day, check_name])
            con.execute("INSERT INTO check_results (day, asset, check_name, passed, severity, metadata) VALUES (?, ?, ?, ?, ?, ?)",
                        [day, asset, check_name, passed, severity, metadata])
            con.execute("COMMIT")

    def days_of(self, ticket_ids: list[str], other_than: date) -> dict[str, date]:
        """For ids already stored under another day: that day."""
        if not ticket_ids:
            return {}
        with self.connect() as con:
            con.register("ids", pa.table({"ticket_id": ticket_ids}))
            rows = con.execute(
                "SELECT t.ticket_id, t.day FROM tickets t JOIN ids USING (ticket_id) WHERE t.day <> ?", [other_than]
            ).fetchall()
        return dict(rows)
