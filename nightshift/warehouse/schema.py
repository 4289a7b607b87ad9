"""Every warehouse table, described once. Its DDL and the Arrow schema of the rows written to it both come from here.

A table is written as the column lines of a CREATE TABLE (``name TYPE [NOT NULL] [DEFAULT expr] -- note``); the
column whose default is ``current_timestamp`` is the write-time stamp the database fills in, so it is not part of
the Arrow schema of incoming rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa

ARROW_TYPES = {
    "VARCHAR": pa.string(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "INTEGER": pa.int32(),
    "BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
}
STAMP_DEFAULT = "DEFAULT current_timestamp"


@dataclass(frozen=True)
class Table:
    name: str
    columns: str  # one column definition per line, as in CREATE TABLE, with an optional -- note

    @cached_property
    def definitions(self) -> list[str]:
        return [line.split("--", 1)[0].strip().rstrip(",") for line in self.columns.strip().splitlines()]

    @cached_property
    def stamp(self) -> str | None:
        """The column the database stamps when a row lands."""
        return next((d.split()[0] for d in self.definitions if d.endswith(STAMP_DEFAULT)), None)

    @cached_property
    def arrow(self) -> pa.Schema:
        """The schema of rows written to the table: every column but the stamp."""
        return pa.schema([(d.split()[0], ARROW_TYPES[d.split()[1]]) for d in self.definitions if d.split()[0] != self.stamp])

    @property
    def names(self) -> list[str]:
        return [d.split()[0] for d in self.definitions]

    def ddl(self) -> str:
        notes = [line.partition("--")[2].strip() for line in self.columns.strip().splitlines()]
        lines = [d + ("," if i < len(notes) - 1 else "") + (f"  -- {n}" if n else "") for i, (d, n) in enumerate(zip(self.definitions, notes))]
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    " + "\n    ".join(lines) + "\n)"


TICKETS = Table("tickets", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL               -- partition: the UTC day the ticket was created
    created_at TIMESTAMP NOT NULL   -- UTC
    subject VARCHAR
    body VARCHAR                    -- original text: it never leaves this database
    text_redacted VARCHAR NOT NULL  -- subject and body with PII replaced: what models see
    text_hash VARCHAR NOT NULL
    redactions INTEGER NOT NULL
    customer VARCHAR
    channel VARCHAR
    label VARCHAR
    priority VARCHAR
    source_file VARCHAR NOT NULL
    source_line BIGINT
    ingested_at TIMESTAMP NOT NULL DEFAULT current_timestamp
""")

QUARANTINE = Table("tickets_quarantine", """
    day DATE NOT NULL
    source_file VARCHAR NOT NULL
    source_line BIGINT
    reason VARCHAR NOT NULL         -- kind: particulars
    raw VARCHAR
    quarantined_at TIMESTAMP NOT NULL DEFAULT current_timestamp
""")

TRIAGE = Table("ticket_triage", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL
    category VARCHAR NOT NULL       -- predicted by the triage model
    confidence DOUBLE NOT NULL      -- its probability
    priority VARCHAR
    priority_source VARCHAR         -- 'ticket' (from the source system) or 'model'
    route VARCHAR NOT NULL          -- cache | small_model | frontier | realtime
    reason VARCHAR NOT NULL         -- the rule that decided
    cache_ticket_id VARCHAR         -- nearest valid cache entry's source ticket
    cache_similarity DOUBLE
    nearest_known DOUBLE            -- similarity to the nearest ticket the model has seen
    input_tokens BIGINT NOT NULL
    expected_usd DOUBLE NOT NULL    -- estimate from the price table; synthesis records actuals
    model_version VARCHAR NOT NULL
    cache_entry_id VARCHAR          -- the cache entry a cache route serves
    triaged_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    cache_probe BOOLEAN             -- the entry served is on probation: the serve is judged before it is given
    cache_judged INTEGER            -- judged serves on the entry's record before this day
    gate_probe BOOLEAN              -- sent to a cheap route gated for its category, to measure it again: judged before it is given
""")

BATCHES = Table("llm_batches", """
    batch_id VARCHAR NOT NULL       -- the provider's id
    day DATE NOT NULL               -- the partition it answers for
    provider VARCHAR NOT NULL       -- whose models it asks: openai | anthropic (before 2026-12: local, or an OpenAI base URL)
    model VARCHAR NOT NULL
    prompt_versions VARCHAR NOT NULL
    attempt INTEGER NOT NULL        -- 1, then one more per resubmission of failed lines
    input_file_id VARCHAR           -- null: the requests went inline (Anthropic)
    output_file_id VARCHAR
    error_file_id VARCHAR
    status VARCHAR NOT NULL         -- the provider's: validating ... completed | failed | expired | cancelled
    requests INTEGER NOT NULL
    completed INTEGER NOT NULL DEFAULT 0
    failed INTEGER NOT NULL DEFAULT 0
    error VARCHAR                   -- why the whole batch failed, if it did
    submitted_at TIMESTAMP NOT NULL
    polled_at TIMESTAMP
    finished_at TIMESTAMP           -- first seen in a terminal status
    collected_at TIMESTAMP          -- results read into the ledger; null while the sensor watches it
    files_deleted_at TIMESTAMP      -- the provider's input, output and error files deleted by the retention job
    rescued_at TIMESTAMP            -- cancelled to meet its deadline: its unanswered requests are asked synchronously
    trace_context VARCHAR           -- its submit span (trace id-span id, hex) when traced: later spans link to it
""")

REQUESTS = Table("llm_requests", """
    custom_id VARCHAR NOT NULL      -- the ticket id, digest:<day>, shadow:<ticket id> or judge:<ticket id>
    day DATE NOT NULL
    kind VARCHAR NOT NULL           -- reply | digest | shadow (frontier answer to a sampled cheap ticket) | judge
    ticket_id VARCHAR
    route VARCHAR NOT NULL          -- shadow and judge: the cheap route whose answer is measured
    model VARCHAR NOT NULL
    prompt_version VARCHAR NOT NULL
    request_hash VARCHAR NOT NULL   -- of the body: same ticket, prompt and model, same hash
    body VARCHAR NOT NULL           -- the request as sent (redacted text only)
    mode VARCHAR NOT NULL           -- batch | sync (realtime, full price)
    attempt INTEGER NOT NULL
    batch_id VARCHAR
    status VARCHAR NOT NULL         -- submitted | ok | invalid | failed | expired | cancelled
    answer VARCHAR                  -- the validated JSON answer
    error VARCHAR
    input_tokens BIGINT NOT NULL DEFAULT 0
    cached_tokens BIGINT NOT NULL DEFAULT 0
    output_tokens BIGINT NOT NULL DEFAULT 0
    usd DOUBLE NOT NULL DEFAULT 0   -- from the usage the provider returned, at this mode's price
    frontier_sync_usd DOUBLE NOT NULL DEFAULT 0  -- the same tokens on the frontier model, synchronously
    sync_usd DOUBLE DEFAULT 0       -- the same tokens on this model, synchronously: routing saved the rest
    uncached_usd DOUBLE DEFAULT 0   -- on this model, in this mode, without the cached-input price: batch saved down to here
    submitted_at TIMESTAMP NOT NULL
    finished_at TIMESTAMP
    superseded_at TIMESTAMP         -- a rerun of the day asked something else for this custom_id
    cache_write_tokens BIGINT DEFAULT 0  -- of input_tokens, written to the prompt cache (billed by Anthropic above input)
    rescued BOOLEAN DEFAULT false   -- asked synchronously because its batch would have missed the deadline
    rescue_usd DOUBLE DEFAULT 0     -- what asking it synchronously cost over the batch price of the same tokens
    answered_by VARCHAR             -- the model the answer names (a dated snapshot; nightshift-offline for the stand-in)
""")

RESPONSES = Table("ticket_responses", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL
    route VARCHAR NOT NULL
    status VARCHAR NOT NULL         -- ok | pending | failed | held (a person answers: see hold_reason)
    source VARCHAR NOT NULL         -- batch | sync | cache | shadow (the frontier's, given instead) | human (no model asked)
    model VARCHAR                   -- what wrote the answer, as it says (nightshift-offline: the stand-in, not a model)
    prompt_version VARCHAR NOT NULL
    summary VARCHAR
    sentiment VARCHAR
    category VARCHAR
    draft_reply VARCHAR
    needs_human BOOLEAN
    response VARCHAR                -- the whole JSON answer
    error VARCHAR                   -- the last attempt's error when status is failed
    attempts INTEGER NOT NULL
    batch_id VARCHAR
    cache_entry_id VARCHAR
    input_tokens BIGINT NOT NULL
    output_tokens BIGINT NOT NULL
    usd DOUBLE NOT NULL             -- every attempt's $, each counted once
    frontier_sync_usd DOUBLE NOT NULL
    citations VARCHAR               -- the knowledge-base passages the answer cites (chunk ids, comma-separated)
    cited_titles VARCHAR            -- their articles' titles, as a reader wants them
    grounded BOOLEAN                -- cites at least one passage of the current knowledge base; NULL without one
    responded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    hold_reason VARCHAR             -- why a person answers instead: the safety pre-filter, classifier or reply policy
    rescued BOOLEAN                 -- answered synchronously because its batch would have missed the deadline
    rescue_usd DOUBLE               -- what that cost over the batch price (in usd)
    replaced_because VARCHAR        -- a cheap answer taken back (judged wrong, its cache entry withdrawn or gone): why
    replaced_response VARCHAR       -- the answer taken back, as the judge saw it (NULL: its cache entry was gone)
    model_asked VARCHAR             -- the model its route asked: what it was priced at and what the cache keys it by
""")

SAFETY = Table("ticket_safety", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL
    prefilter VARCHAR               -- what the screen holds the ticket for, kind ("evidence"); NULL: nothing
    sampled BOOLEAN NOT NULL        -- asked of the model classifier though not held: unsure (a hint, a middling score) or sampled
    verdict VARCHAR                 -- the kinds the classifier found, comma-separated; '' clean; NULL not asked or not back
    verdict_reason VARCHAR
    verdict_model VARCHAR
    verdict_usd DOUBLE              -- what asking the classifier cost, every attempt
    noted VARCHAR                   -- what the screen found but does not hold for (abuse), kind ("evidence")
    injection_score DOUBLE          -- the injection classifier's probability, the highest over the ticket's views
""")

CONTEXT = Table("ticket_context", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL
    rank INTEGER NOT NULL           -- 1 = best, by reciprocal-rank fusion of vector and full-text search
    chunk_id VARCHAR NOT NULL       -- the passage in LanceDB kb_chunks
    article_id VARCHAR NOT NULL
    title VARCHAR NOT NULL
    article_version VARCHAR NOT NULL
    score DOUBLE NOT NULL           -- the fused relevance
    similarity DOUBLE NOT NULL      -- cosine similarity of ticket and passage: what the floor is applied to
    text VARCHAR NOT NULL           -- the passage as the prompt quotes it
""")

DIGEST_MATERIAL = Table("digest_material", """
    day DATE NOT NULL
    tickets INTEGER NOT NULL        -- triaged tickets with a vector: what the themes were found in
    themes VARCHAR NOT NULL         -- JSON: clusters with size, category, example tickets
    spikes VARCHAR NOT NULL         -- JSON: categories that rose against the trailing week
    found_at TIMESTAMP NOT NULL DEFAULT current_timestamp
""")

DIGESTS = Table("daily_digests", """
    day DATE NOT NULL
    status VARCHAR NOT NULL         -- ok | pending | failed
    tickets INTEGER NOT NULL
    headline VARCHAR
    themes VARCHAR NOT NULL         -- JSON: clusters with size, category, example tickets
    spikes VARCHAR NOT NULL         -- JSON: categories that rose against the trailing week
    digest VARCHAR                  -- the model's JSON answer
    markdown VARCHAR NOT NULL
    model VARCHAR NOT NULL
    prompt_version VARCHAR NOT NULL
    usd DOUBLE NOT NULL
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
""")

COST_AND_QUALITY = Table("daily_cost_and_quality", """
    day DATE NOT NULL
    tickets INTEGER NOT NULL
    route_cache INTEGER NOT NULL
    route_small_model INTEGER NOT NULL
    route_frontier INTEGER NOT NULL
    route_realtime INTEGER NOT NULL
    spent_usd DOUBLE NOT NULL        -- every current request of the day, from returned usage
    baseline_usd DOUBLE NOT NULL     -- every ticket and the digest synchronously on the frontier model
    saving DOUBLE NOT NULL
    tokens BIGINT NOT NULL
    cache_hit_rate DOUBLE NOT NULL
    cache_false_hit_rate DOUBLE      -- measured on labelled history by the day's triage model
    mean_confidence DOUBLE
    answered INTEGER NOT NULL
    failed INTEGER NOT NULL
    pending INTEGER NOT NULL
    valid_json_rate DOUBLE           -- answers that parsed against their schema, of all that came back
    needs_human_share DOUBLE
    batches INTEGER NOT NULL
    max_attempt INTEGER NOT NULL
    batch_turnaround_s DOUBLE        -- slowest batch of the day, submit to finish
    checks INTEGER                   -- asset checks evaluated for the day so far
    checks_passed INTEGER
    check_pass_rate DOUBLE
    quality_usd DOUBLE               -- shadow and judge requests: the price of knowing the quality (in spent_usd)
    saving_batch DOUBLE              -- the saving by lever, as shares of baseline_usd; they and -quality_usd / baseline_usd
    saving_routing DOUBLE            --   add up to saving
    saving_cache DOUBLE
    saving_prompt_cache DOUBLE
    sampled_cache INTEGER            -- cache answers judged against the frontier model's today
    agreement_cache DOUBLE           -- the share the judge found of the same intent and acceptable
    agreement_cache_low DOUBLE       -- its Wilson 95% interval
    agreement_cache_high DOUBLE
    sampled_7d_cache INTEGER         -- the same over the 7 days up to today
    agreement_7d_cache DOUBLE
    agreement_7d_cache_low DOUBLE
    agreement_7d_cache_high DOUBLE
    sampled_small_model INTEGER
    agreement_small_model DOUBLE
    agreement_small_model_low DOUBLE
    agreement_small_model_high DOUBLE
    sampled_7d_small_model INTEGER
    agreement_7d_small_model DOUBLE
    agreement_7d_small_model_low DOUBLE
    agreement_7d_small_model_high DOUBLE
    grounded_cache DOUBLE            -- answers citing at least one current knowledge-base passage, per route
    grounded_small_model DOUBLE
    grounded_frontier DOUBLE
    grounded_realtime DOUBLE
    supported_7d_cache DOUBLE        -- judged over 7 days: every claim backed by the cited passages, with its 95% interval
    supported_7d_cache_low DOUBLE
    supported_7d_cache_high DOUBLE
    supported_7d_small_model DOUBLE
    supported_7d_small_model_low DOUBLE
    supported_7d_small_model_high DOUBLE
    rescued_tickets INTEGER          -- answered synchronously because their batch would have missed the deadline
    rescue_usd DOUBLE                -- what that cost over the batch price (in spent_usd)
    ingest_s DOUBLE                  -- seconds each stage's step took for the day, from the Dagster event log; the wait
    embed_s DOUBLE                   --   for the batches between submit_s and collect_s is batch_turnaround_s
    triage_s DOUBLE
    submit_s DOUBLE
    collect_s DOUBLE
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    cache_admitted INTEGER           -- the day's answers admitted to the answer cache (see cache_admissions)
    cache_probation INTEGER          --   of them on probation: they serve only as judged probes until one is correct
    cache_refused INTEGER            -- answers kept out; an answer refused for several reasons counts once here and
    refused_held INTEGER             --   once under each of its reasons
    refused_judge_rejected INTEGER
    refused_category INTEGER
    refused_off_topic INTEGER
    refused_personal_data INTEGER
    refused_safety INTEGER
    refused_unusual_ticket INTEGER
    refused_stale_citation INTEGER
    refused_no_vector INTEGER
    relevance_floor DOUBLE           -- the reply-ticket similarity under which a reply counts as off-topic
    cache_probes INTEGER             -- serves of probation entries, judged before given
    cache_judged_serves INTEGER      -- the day's cache serves the judge compared with the frontier's answer
    cache_wrong_serves INTEGER       --   of them wrong: the entry retired and its other serves of the day withdrawn
    cache_wrong_serve_rate DOUBLE    -- over the 7 days up to today, with its Wilson 95% interval: the error bound's test
    cache_wrong_serve_rate_low DOUBLE
    cache_wrong_serve_rate_high DOUBLE
    cache_withdrawn INTEGER          -- served answers taken back (entry judged wrong or gone) and answered afresh
    estimate_7d_cache DOUBLE         -- per cheap route over 7 days: agreement from the judged sample and every answer's free
    estimate_7d_cache_low DOUBLE     --   signals (PPI++), with its 95% interval; Wilson on the judged alone where PPI++ is
    estimate_7d_cache_high DOUBLE    --   not sound (estimator says which), and the judged answers it is worth (effective_n)
    estimator_7d_cache VARCHAR
    effective_n_7d_cache DOUBLE
    estimate_7d_small_model DOUBLE
    estimate_7d_small_model_low DOUBLE
    estimate_7d_small_model_high DOUBLE
    estimator_7d_small_model VARCHAR
    effective_n_7d_small_model DOUBLE
""")

ANSWER_QUALITY = Table("answer_quality", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL
    route VARCHAR NOT NULL          -- the cheap route measured: cache | small_model
    model VARCHAR                   -- who wrote the cheap answer
    status VARCHAR NOT NULL         -- judged | pending | unmeasured (the cheap or the frontier answer failed)
    same_intent BOOLEAN             -- the judge's verdict
    acceptable BOOLEAN
    agrees BOOLEAN                  -- same intent and acceptable: what the agreement rate counts
    reason VARCHAR                  -- the judge's, or why it was not judged
    judge_model VARCHAR
    shadow_usd DOUBLE NOT NULL      -- the frontier answer asked for the comparison
    judge_usd DOUBLE NOT NULL
    supported BOOLEAN               -- every claim of the cheap reply backed by the passages it cites; NULL without any
    measured_at TIMESTAMP NOT NULL DEFAULT current_timestamp
""")

CACHE_ADMISSIONS = Table("cache_admissions", """
    ticket_id VARCHAR NOT NULL
    day DATE NOT NULL
    entry_id VARCHAR NOT NULL       -- the cache entry the answer would be (prompt version, model, ticket)
    route VARCHAR NOT NULL          -- who answered: small_model | frontier | realtime | shadow (the frontier's, given instead)
    admitted BOOLEAN NOT NULL
    trust VARCHAR                   -- admitted: verified (serves) | probation (serves only as a judged probe)
    reasons VARCHAR                 -- refused: every rule it broke, 'kind: particulars; ...' (values never written down)
    relevance DOUBLE                -- cosine similarity of the reply and its ticket
    floor DOUBLE                    -- the off-topic floor it was held to
    cheap_relevance DOUBLE          -- the same for the cheap answer as written, before a judge had it replaced: a signal of its quality
""")

CHECK_RESULTS = Table("check_results", """
    day DATE NOT NULL
    asset VARCHAR NOT NULL
    check_name VARCHAR NOT NULL
    passed BOOLEAN NOT NULL
    severity VARCHAR NOT NULL        -- ERROR | WARN
    metadata VARCHAR NOT NULL        -- JSON: the check's figures, as in the Dagster UI
    evaluated_at TIMESTAMP NOT NULL DEFAULT current_timestamp  -- the latest evaluation replaces earlier ones
""")

TABLES = {t.name: t for t in (TICKETS, QUARANTINE, TRIAGE, BATCHES, REQUESTS, RESPONSES, CONTEXT, DIGEST_MATERIAL, DIGESTS,
                              ANSWER_QUALITY, COST_AND_QUALITY, CHECK_RESULTS, SAFETY, CACHE_ADMISSIONS)}

VIEWS = """
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

def add_columns(table: Table, first: str, last: str) -> str:
    """ALTERs adding ``table``'s columns ``first`` to ``last``, as described here (for a migration; DuckDB adds no NOT NULL)."""
    names = table.names
    return ";".join(f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {d}"
                    for d in table.definitions[names.index(first):names.index(last) + 1])


# Applied in order, each once, recorded in schema_migrations. The first creates every table as described above; later
# ones bring a warehouse written by an older nightshift up to those descriptions. Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    ";\n".join(t.ddl() for t in TABLES.values()) + ";\n" + VIEWS,
    "ALTER TABLE ticket_triage ADD COLUMN IF NOT EXISTS cache_entry_id VARCHAR",
    "ALTER TABLE daily_cost_and_quality ADD COLUMN IF NOT EXISTS checks INTEGER;"
    "ALTER TABLE daily_cost_and_quality ADD COLUMN IF NOT EXISTS checks_passed INTEGER;"
    "ALTER TABLE daily_cost_and_quality ADD COLUMN IF NOT EXISTS check_pass_rate DOUBLE",
    # Measured quality: the answer_quality table, the saving by lever, and per-route agreement.
    ";".join([ANSWER_QUALITY.ddl(), add_columns(COST_AND_QUALITY, "quality_usd", "agreement_7d_small_model_high"),
              add_columns(REQUESTS, "sync_usd", "uncached_usd")]),
    # Grounded replies: the retrieved evidence, what each answer cites, and groundedness per route.
    ";".join([CONTEXT.ddl(), add_columns(RESPONSES, "citations", "grounded"), add_columns(ANSWER_QUALITY, "supported", "supported"),
              add_columns(COST_AND_QUALITY, "grounded_cache", "supported_7d_small_model_high")]),
    # Hostile input: the safety stage's findings per ticket, and why an answer is held for a person.
    ";".join([SAFETY.ddl(), add_columns(RESPONSES, "hold_reason", "hold_reason"),
              add_columns(BATCHES, "files_deleted_at", "files_deleted_at")]),
    # Providers and deadlines: Anthropic batches (no input file; cache writes billed), and batches rescued at the deadline.
    ";".join(["ALTER TABLE llm_batches ALTER COLUMN input_file_id DROP NOT NULL", add_columns(BATCHES, "rescued_at", "rescued_at"),
              add_columns(REQUESTS, "cache_write_tokens", "rescue_usd"), add_columns(RESPONSES, "rescued", "rescue_usd"),
              add_columns(COST_AND_QUALITY, "rescued_tickets", "rescue_usd")]),
    # Stage timings beside cost and quality.
    add_columns(COST_AND_QUALITY, "ingest_s", "collect_s"),
    # Traces: a batch's later spans link to its submit span.
    add_columns(BATCHES, "trace_context", "trace_context"),
    # Cache trust: what each answer's admission found, probes of probation entries, and the day's figures.
    ";".join([CACHE_ADMISSIONS.ddl(), add_columns(TRIAGE, "cache_probe", "cache_judged"),
              add_columns(RESPONSES, "replaced_because", "replaced_response"),
              add_columns(COST_AND_QUALITY, "cache_admitted", "cache_withdrawn")]),
    # Hostile input, second round: what the screen only notes, and the injection classifier's score.
    add_columns(SAFETY, "noted", "injection_score"),
    # What wrote each answer, as the answer says (the stand-in's are never mistaken for a model's), and what was asked.
    ";".join([add_columns(REQUESTS, "answered_by", "answered_by"), add_columns(RESPONSES, "model_asked", "model_asked")]),
    # Quality from every answer's signals, corrected by the judged sample (PPI++), beside the judged-only figures.
    ";".join([add_columns(COST_AND_QUALITY, "estimate_7d_cache", "effective_n_7d_small_model"),
              add_columns(CACHE_ADMISSIONS, "cheap_relevance", "cheap_relevance")]),
    # A gated route measured again: a few of its category's tickets, judged before they are given.
    add_columns(TRIAGE, "gate_probe", "gate_probe"),
)
