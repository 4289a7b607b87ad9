"""The batch ledger: every batch and every request in DuckDB (llm_batches, llm_requests).

State lives here rather than in a process, so the sensor that polls and the run that collects can
restart at any point. A request's $ is computed once, from the usage its response returned, when
its batch is collected; collecting the same batch again rewrites the same rows and adds nothing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import date
from itertools import islice
from pathlib import Path
from typing import IO

import pyarrow as pa

from nightshift.lib.clock import utcnow
from nightshift.llm import citations, prompts, structured_output
from nightshift.llm.batch_files import LineResult, request_json, split
from nightshift.llm.client import BatchClient, BatchState, Providers
from nightshift.llm.engine import TERMINAL
from nightshift.llm.pricing import PriceTable
from nightshift.llm.requests import QUALITY_KINDS, SCHEMAS, Request
from nightshift.observability import tracing
from nightshift.warehouse.database import Warehouse, tickets_within

RETRYABLE = ("invalid", "failed", "expired", "cancelled")
BLOCK = 5000  # ledger rows written or results applied at a time
LATEST = "QUALIFY row_number() OVER (PARTITION BY custom_id ORDER BY attempt DESC, submitted_at DESC) = 1"  # each request's last attempt

OUTCOME = pa.schema([
    ("custom_id", pa.string()), ("batch_id", pa.string()), ("attempt", pa.int32()), ("status", pa.string()),
    ("answer", pa.string()), ("error", pa.string()), ("input_tokens", pa.int64()), ("cached_tokens", pa.int64()),
    ("output_tokens", pa.int64()), ("usd", pa.float64()), ("frontier_sync_usd", pa.float64()), ("sync_usd", pa.float64()),
    ("uncached_usd", pa.float64()), ("finished_at", pa.timestamp("us")), ("cache_write_tokens", pa.int64()),
    ("rescue_usd", pa.float64()), ("answered_by", pa.string()),
])
QUALITY_IN = "(" + ", ".join(f"'{kind}'" for kind in QUALITY_KINDS) + ")"


def selecting(within: tuple[str, str] | None, kinds: tuple[str, ...] | None) -> tuple[str, list]:
    """The condition (and its parameters) that reads only requests about tickets ``within`` a first and last id, and only
    of ``kinds``; either may be None, for all."""
    where, params = tickets_within(within)
    if kinds is None:
        return where, params
    return f"{where} AND list_contains(?, kind)", [*params, list(kinds)]


def message_text(body: str) -> str:
    """The text of a chat request's messages, as a privacy reviewer would read it."""
    return "\n".join(str(m.get("content") or "") for m in json.loads(body).get("messages", []))


def outcome(row: dict, result: LineResult | None, unfinished: str, prices: PriceTable) -> dict:
    """What one request came to: its status, validated answer or error, tokens and $ (from returned usage)."""
    base = {"custom_id": row["custom_id"], "batch_id": row["batch_id"], "attempt": row["attempt"], "finished_at": utcnow(),
            "answer": None, "error": None, "input_tokens": 0, "cached_tokens": 0, "output_tokens": 0, "cache_write_tokens": 0,
            "usd": 0.0, "frontier_sync_usd": 0.0, "sync_usd": 0.0, "uncached_usd": 0.0, "rescue_usd": 0.0, "answered_by": None}
    if result is None:
        return {**base, "status": unfinished, "error": f"batch {unfinished} before this request ran"}
    usage, model, batch = result.usage, row["model"], row["mode"] == "batch"
    tokens = (usage.input_tokens, usage.output_tokens)
    cached, written = usage.cached_tokens, usage.written_tokens
    # Priced four ways, so the saving splits by lever: routing (frontier -> this model), batch, prompt caching.
    usd = prices.cost(model, *tokens, cached, batch=batch, written_tokens=written)
    spent = {"answered_by": (result.body or {}).get("model"),
             "input_tokens": usage.input_tokens, "cached_tokens": cached, "output_tokens": usage.output_tokens,
             "cache_write_tokens": written, "usd": usd,
             "frontier_sync_usd": prices.cost(prices.frontier, *tokens), "sync_usd": prices.cost(model, *tokens),
             "uncached_usd": prices.cost(model, *tokens, batch=batch),
             # A request asked now because its batch would miss the deadline: what that cost over its batch price.
             "rescue_usd": usd - prices.cost(model, *tokens, cached, batch=True, written_tokens=written) if row.get("rescued") else 0.0}
    if not result.ok:
        return {**base, **spent, "status": "failed", "error": result.error}
    schema = SCHEMAS[row["prompt_version"]]
    answer, problem = structured_output.parse(result.body or {}, schema)
    if answer is not None and "citations" in schema["properties"]:
        problem = citations.problem(answer, citations.given(row["body"]))
    if problem:
        return {**base, **spent, "status": "invalid", "error": problem}
    return {**base, **spent, "status": "ok", "answer": json.dumps(answer, ensure_ascii=False)}


class BatchLedger:
    # Per batch, when set: a smaller limit than the provider's (tests use it to make many parts of a small day).
    max_lines: int | None = None
    max_bytes: int | None = None

    def __init__(self, db: Warehouse, providers: Providers | None, prices: PriceTable):
        # Without providers the ledger can only be read.
        self.db = db
        self.providers = providers
        self.prices = prices

    def client(self, provider: str) -> BatchClient:
        """The client of ``provider`` (a model's, from the price table, or the one a batch was sent to)."""
        if self.providers is None:
            raise RuntimeError("this ledger was opened to read: it has no batch client to send or poll with")
        return self.providers[provider]

    # -- reading ----------------------------------------------------------------------------

    def open_batches(self, day: date | None = None) -> list[dict]:
        """Batches not collected yet (in flight, or finished and waiting for the collection run), each with the routes its
        requests answer for (what its deadline is)."""
        sql = ("SELECT b.*, (SELECT list(DISTINCT route ORDER BY route) FROM llm_requests r WHERE r.batch_id = b.batch_id) AS routes "
               "FROM llm_batches b WHERE collected_at IS NULL" + (" AND day = ?" if day else ""))
        return self.db.rows(sql + " ORDER BY submitted_at, batch_id", [day] if day else None)

    def latest(self, day: date, body: bool = False, retryable: bool = False, within: tuple[str, str] | None = None,
               kinds: tuple[str, ...] | None = None) -> dict[str, dict]:
        """Each custom_id's latest attempt among the day's current (not superseded) requests; with ``retryable``, only those
        that failed in a way a retry may mend; ``within``, only those about tickets from a first to a last id; ``kinds``,
        only those of these kinds. The request ``body`` (kilobytes each) only when asked for."""
        where, params = selecting(within, kinds)
        rows = self.db.rows(
            f"SELECT * {'' if body else 'EXCLUDE (body)'} FROM llm_requests WHERE day = ? AND superseded_at IS NULL{where} {LATEST}"
            + (f" AND status IN {RETRYABLE}" if retryable else ""), [day, *params]
        )
        return {r["custom_id"]: r for r in rows}

    def turnaround_s(self, day: date) -> float:
        """The day's slowest finished batch, submit to finish."""
        row = self.db.rows("SELECT max(epoch(finished_at) - epoch(submitted_at)) AS s FROM llm_batches "
                                  "WHERE day = ? AND finished_at IS NOT NULL", [day])[0]
        return float(row["s"] or 0.0)

    def sent_texts(self, day: date) -> dict[str, str]:
        """What left the machine: every current request's message text, keyed custom_id#attempt."""
        rows = self.db.rows("SELECT custom_id, attempt, body FROM llm_requests WHERE day = ? AND superseded_at IS NULL", [day])
        return {f"{r['custom_id']}#{r['attempt']}": message_text(r["body"]) for r in rows}

    def spent(self, day: date, within: tuple[str, str] | None = None, kinds: tuple[str, ...] | None = None) -> dict[str, dict]:
        """Per custom_id, the tokens and $ of every current attempt: what the day's answers cost (``within`` and ``kinds``
        select as in ``latest``)."""
        where, params = selecting(within, kinds)
        rows = self.db.rows(
            "SELECT custom_id, count(*) AS attempts, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
            "sum(usd) AS usd, sum(frontier_sync_usd) AS frontier_sync_usd, sum(rescue_usd) AS rescue_usd, "
            "coalesce(bool_or(rescued), false) AS rescued FROM llm_requests "
            f"WHERE day = ? AND superseded_at IS NULL{where} GROUP BY custom_id", [day, *params]
        )
        return {r["custom_id"]: r for r in rows}

    def day_totals(self, day: date) -> dict:
        """The day's $ (every current request, each counted once: replies, realtime, digest, shadow and judge) against
        the naive baseline: every ticket, cache hits included, and the digest, synchronously on the frontier model; and the
        tickets answered synchronously because their batch would have missed the deadline, with what that cost over batch.

        The saving splits by lever, each a share of the baseline: the cache (what its hits would have cost), routing
        (the frontier model's price against the model asked), the batch discount and prompt caching. Less the shadow
        and judge $ (quality_usd), they add up to the saving.
        """
        answering = f"day = $1 AND superseded_at IS NULL AND kind NOT IN {QUALITY_IN}"
        row = self.db.rows(
            "SELECT (SELECT coalesce(sum(usd), 0) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL) AS spent_usd, "
            "(SELECT coalesce(sum(rescue_usd), 0) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL) AS rescue_usd, "
            "(SELECT count(DISTINCT ticket_id) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL AND rescued "
            "AND kind = 'reply') AS rescued_tickets, "
            "(SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL) AS tokens, "
            f"(SELECT coalesce(sum(usd), 0) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL AND kind IN {QUALITY_IN}) "
            "AS quality_usd, "
            f"(SELECT coalesce(sum(frontier_sync_usd - sync_usd), 0) FROM llm_requests WHERE {answering}) AS routing, "
            f"(SELECT coalesce(sum(sync_usd - uncached_usd), 0) FROM llm_requests WHERE {answering}) AS batch, "
            f"(SELECT coalesce(sum(uncached_usd - usd), 0) FROM llm_requests WHERE {answering}) AS prompt_cache, "
            "(SELECT coalesce(sum(frontier_sync_usd), 0) FROM ticket_responses WHERE day = $1 AND source = 'cache') AS cache, "
            "(SELECT coalesce(sum(frontier_sync_usd), 0) FROM ticket_responses WHERE day = $1) "
            "+ (SELECT coalesce(sum(frontier_sync_usd), 0) FROM llm_requests "
            "WHERE day = $1 AND kind = 'digest' AND superseded_at IS NULL) AS baseline_usd",
            [day],
        )[0]
        spent, baseline = float(row["spent_usd"]), float(row["baseline_usd"])
        share = lambda usd: round(float(usd) / baseline, 4) if baseline else 0.0  # noqa: E731
        return {"spent_usd": round(spent, 6), "baseline_usd": round(baseline, 6), "tokens": int(row["tokens"]),
                "rescued_tickets": int(row["rescued_tickets"]), "rescue_usd": round(float(row["rescue_usd"]), 6),
                "saving": round(1 - spent / baseline, 4) if baseline else 0.0, "quality_usd": round(float(row["quality_usd"]), 6),
                **{f"saving_{lever}": share(row[lever]) for lever in ("batch", "routing", "cache", "prompt_cache")}}

    def by_model(self, first: date, last: date) -> dict[str, dict]:
        """Per model, the current requests from ``first`` to ``last`` and their $: what each provider was paid."""
        rows = self.db.rows("SELECT model, count(*) AS requests, sum(usd) AS usd FROM llm_requests "
                            "WHERE day BETWEEN ? AND ? AND superseded_at IS NULL GROUP BY model", [first, last])
        return {r["model"]: r for r in rows}

    # -- submitting -------------------------------------------------------------------------

    def plan(self, day: date, requests: Iterable[Request], kinds: tuple[str, ...],
             max_attempts: int | None = None) -> Iterator[tuple[Request, int]]:
        """Which requests to send, at which attempt: never one already answered or on its way, nor (with ``max_attempts``)
        one out of attempts. Requests are read as they come, so a night of any size is planned a block at a time.

        ``requests`` are all the day's requests of ``kinds``. Once the last is read, those of these kinds the day no longer
        makes (their tickets were rerouted or changed) are marked superseded: consume the plan to the end.
        """
        latest = {r["custom_id"]: r for r in self.db.rows(
            f"SELECT custom_id, kind, request_hash, status, attempt FROM llm_requests WHERE day = ? AND superseded_at IS NULL {LATEST}",
            [day])}
        keep = set()
        for request in requests:
            keep.add((request.custom_id, request.hash))
            row = latest.get(request.custom_id)
            if row is None or row["request_hash"] != request.hash:
                yield request, 1
            elif row["status"] in RETRYABLE and (max_attempts is None or row["attempt"] < max_attempts):
                yield request, row["attempt"] + 1
        stale = [cid for cid, row in latest.items() if row["kind"] in kinds and (cid, row["request_hash"]) not in keep]
        if stale:
            self.db.write(lambda con: con.register("stale", pa.table({"custom_id": stale})).execute(
                "UPDATE llm_requests SET superseded_at = ? WHERE day = ? AND superseded_at IS NULL "
                "AND custom_id IN (SELECT custom_id FROM stale)", [utcnow(), day]))

    def send(self, day: date, todo: Iterable[tuple[Request, int]]) -> tuple[list[dict], list[BatchState]]:
        """Send what is to do: realtime (sync) requests now, one by one at full price; the rest as one batch per model and
        attempt, split at the file limits. Returns the realtime outcomes and the batches.

        Batch requests are spooled to a temporary directory first, then each part is written, uploaded and recorded
        before the next is begun: a night of any size holds one block of rows, never a whole file.
        """
        now_todo: list[tuple[Request, int]] = []
        with tempfile.TemporaryDirectory(prefix="nightshift-batches-") as tmp, ExitStack() as open_files:
            spools: dict[tuple[str, int], tuple[IO[str], set[str]]] = {}
            for request, attempt in todo:
                if request.mode == "sync":
                    now_todo.append((request, attempt))
                    continue
                key = (request.model, attempt)
                if key not in spools:
                    path = Path(tmp) / f"spool-{len(spools)}.jsonl"
                    spools[key] = (open_files.enter_context(path.open("w", encoding="utf-8")), set())
                out, versions = spools[key]
                out.write(json.dumps({**request.as_row(), "attempt": attempt}, ensure_ascii=False) + "\n")
                versions.add(request.prompt_version)
            open_files.close()
            states = [state for (model, attempt), (spool, versions) in sorted(spools.items())
                      for state in self._submit_spool(day, model, attempt, ",".join(sorted(versions)), Path(spool.name))]
        return self._answer_now(day, now_todo), states

    def _submit_spool(self, day: date, model: str, attempt: int, versions: str, spool: Path) -> Iterator[BatchState]:
        """One model and attempt's spooled requests as batches, a part at a time: written, submitted, then recorded."""
        parts = spool.with_suffix("")
        provider = self.prices.provider_of(model)
        client = self.client(provider)
        limits = self.max_lines or client.max_lines, self.max_bytes or client.max_bytes
        with spool.open(encoding="utf-8") as for_files, spool.open(encoding="utf-8") as for_ledger:
            lines = (request_json(row["custom_id"], row["body"]) for row in map(json.loads, for_files))
            for part, (path, count) in enumerate(split(lines, parts, *limits)):
                metadata = {"day": day.isoformat(), "prompt_versions": versions, "model": model, "attempt": str(attempt), "part": str(part)}
                started = utcnow()
                state = client.submit(path, f"nightshift-{day}-{model}-a{attempt}-p{part}.jsonl", metadata)
                path.unlink()
                now = utcnow()
                submitted = tracing.span("batch submit", {tracing.BATCH_ID: state.id, "gen_ai.provider.name": provider,
                                                          "gen_ai.request.model": model, tracing.ATTEMPT: attempt,
                                                          "nightshift.requests": state.total, tracing.STATUS: state.status},
                                         start=started, end=now)
                self.db.insert("llm_batches", [{
                    "batch_id": state.id, "day": day, "provider": provider, "model": model, "prompt_versions": versions,
                    "attempt": attempt, "input_file_id": state.input_file_id, "status": state.status, "requests": state.total,
                    "error": state.errors, "submitted_at": now, "trace_context": tracing.context_text(submitted)}])
                rows = islice(for_ledger, count)
                while block := [{**json.loads(line), "day": day, "batch_id": state.id, "status": "submitted", "submitted_at": now}
                                for line in islice(rows, BLOCK)]:
                    self.db.insert("llm_requests", block)
                yield state

    def _answer_now(self, day: date, todo: list[tuple[Request, int]]) -> list[dict]:
        """Send sync-mode (realtime) requests one by one and record each outcome at full price."""
        rows, outcomes = [], []
        for request, attempt in todo:
            row = {**request.as_row(), "day": day, "attempt": attempt, "batch_id": None, "status": "submitted", "submitted_at": utcnow()}
            status, body = self.client(self.prices.provider_of(request.model)).complete(request.sent)
            error = None if status == 200 else f"HTTP {status}: {(body.get('error') or {}).get('message', 'no detail')}"
            rows.append(row)
            result = LineResult(request.custom_id, body, error)
            outcomes.append(outcome(row, result, "failed", self.prices))
            self._traced([row], outcomes[-1:], {request.custom_id: result})
        self.db.insert("llm_requests", rows)
        self._apply(outcomes, sync=True)
        return outcomes

    # -- polling and collecting -------------------------------------------------------------

    def poll(self, batch: dict) -> BatchState:
        """Ask the provider a batch (a row of llm_batches) was sent to how it stands, and record it; a change of status is
        a span, linked to the batch's submit span."""
        state = self._record(batch["batch_id"], self.client(batch["provider"]).poll(batch["batch_id"]))
        if state.status != batch["status"]:
            tracing.span("batch poll", {tracing.BATCH_ID: state.id, tracing.STATUS: state.status, "nightshift.completed": state.completed,
                                        "nightshift.failed": state.failed, "nightshift.was": batch["status"]},
                         links=tracing.context_of(batch.get("trace_context")))
        return state

    def rescue(self, batch: dict) -> BatchState:
        """A batch that would miss its deadline: cancelled (an expired one already ended), so the collection asks its
        unanswered requests synchronously; what it finished before is kept, and paid for once."""
        state = self.client(batch["provider"]).cancel(batch["batch_id"]) if batch["status"] not in TERMINAL else None
        self.db.execute("UPDATE llm_batches SET rescued_at = ? WHERE batch_id = ?", [utcnow(), batch["batch_id"]])
        return self._record(batch["batch_id"], state) if state else self.poll(batch)

    def _record(self, batch_id: str, state: BatchState) -> BatchState:
        self.db.execute(
            "UPDATE llm_batches SET status = ?, completed = ?, failed = ?, output_file_id = ?, error_file_id = ?, "
            "error = coalesce(?, error), polled_at = ?, "
            "finished_at = CASE WHEN ? AND finished_at IS NULL THEN ? ELSE finished_at END WHERE batch_id = ?",
            [state.status, state.completed, state.failed, state.output_file_id, state.error_file_id, state.errors,
             utcnow(), state.status in TERMINAL, utcnow(), batch_id],
        )
        return state

    def collect(self, day: date, block: int = BLOCK) -> dict[str, int]:
        """Read every finished batch of the day into the ledger; report how many are still in flight.

        Results are read and applied ``block`` lines at a time, so collecting a batch of any size holds one block.
        """
        collected = pending = 0
        for batch in self.open_batches(day):
            state = self.poll(batch)
            if state.status not in TERMINAL:
                pending += 1
                continue
            results = self.client(batch["provider"]).fetch(state)
            seen: set[str] = set()
            while found := {r.custom_id: r for r in islice(results, block)}:
                seen.update(found)
                rows = self._batch_requests(state.id, "list_contains($2, custom_id)", list(found))
                outcomes = [outcome(r, found[r["custom_id"]], state.status, self.prices) for r in rows]
                self._apply(outcomes)
                self._traced(rows, outcomes, found, batch.get("trace_context"))
            # The lines that never ran: the batch expired or was cancelled first.
            rows = self._batch_requests(state.id, "NOT list_contains($2, custom_id)", list(seen))
            self._apply([outcome(r, None, state.status, self.prices) for r in rows])
            tracing.span("batch collect", {tracing.BATCH_ID: state.id, tracing.STATUS: state.status, "nightshift.answered": len(seen),
                                           "nightshift.never_ran": len(rows)}, links=tracing.context_of(batch.get("trace_context")))
            self.db.execute("UPDATE llm_batches SET collected_at = ? WHERE batch_id = ?", [utcnow(), batch["batch_id"]])
            collected += 1
        return {"batches_collected": collected, "batches_in_flight": pending}

    def _batch_requests(self, batch_id: str, which: str, ids: list[str]) -> list[dict]:
        return self.db.rows(f"SELECT * FROM llm_requests WHERE batch_id = $1 AND {which}", [batch_id, ids])

    def delete_files(self, before: date) -> tuple[int, int]:
        """Delete the provider's files (input, output, errors) of the batches collected for days before ``before``: the
        ledger already holds every request and answer, so a rerun of such a day needs none of them. Returns (files, bytes)."""
        rows = self.db.rows("SELECT batch_id, provider, input_file_id, output_file_id, error_file_id FROM llm_batches "
                            "WHERE day < ? AND collected_at IS NOT NULL AND files_deleted_at IS NULL", [before])
        files = [(row["provider"], f) for row in rows for f in (row["input_file_id"], row["output_file_id"], row["error_file_id"]) if f]
        freed = sum(self.client(provider).delete_file(f) for provider, f in files)
        ids = [f for _, f in files]
        if rows:
            done = pa.table({"batch_id": [r["batch_id"] for r in rows]})
            self.db.write(lambda con: con.register("done", done).execute(
                "UPDATE llm_batches SET files_deleted_at = ? WHERE batch_id IN (SELECT batch_id FROM done)", [utcnow()]))
        return len(ids), freed

    def retry(self, day: date, max_attempts: int) -> tuple[list[BatchState], int]:
        """Resubmit the day's failed, invalid, expired or cancelled requests that have attempts left.

        Returns the new batches and how many requests are out of attempts (reported, never dropped).
        """
        todo, exhausted = [], 0
        rescued = {r["batch_id"] for r in self.db.rows("SELECT batch_id FROM llm_batches WHERE day = ? AND rescued_at IS NOT NULL", [day])}
        for row in self.latest(day, body=True, retryable=True).values():
            if row["attempt"] >= max_attempts:
                exhausted += 1
                continue
            # A request of a batch rescued at its deadline (or of its synchronous rescue) is asked now, not batched again.
            request = Request(row["custom_id"], row["kind"], row["ticket_id"], row["route"], row["model"], row["prompt_version"],
                              prompts.without_retry_note(json.loads(row["body"])),
                              problem=row["error"] if row["status"] == "invalid" else None,
                              rescued=bool(row["rescued"]) or row["batch_id"] in rescued)
            todo.append((request, row["attempt"] + 1))
        return self.send(day, todo)[1], exhausted

    # -- internals --------------------------------------------------------------------------

    def _traced(self, rows: list[dict], outcomes: list[dict], results: dict[str, LineResult], batch_span: str | None = None) -> None:
        """A span per answered request, linked to its batch's submit span, when tracing is on."""
        if not tracing.enabled():
            return
        for row, done in zip(rows, outcomes):
            tracing.request({**row, "trace_context": batch_span}, done, self.prices.provider_of(row["model"]),
                            (results[row["custom_id"]].body or {}).get("id"))

    def _apply(self, outcomes: list[dict], sync: bool = False) -> None:
        if not outcomes:
            return
        match = "r.batch_id IS NULL AND r.attempt = o.attempt" if sync else "r.batch_id = o.batch_id"
        self.db.write(lambda con: con.register("o", pa.Table.from_pylist(outcomes, schema=OUTCOME)).execute(
            "UPDATE llm_requests AS r SET status = o.status, answer = o.answer, error = o.error, "
            "input_tokens = o.input_tokens, cached_tokens = o.cached_tokens, output_tokens = o.output_tokens, "
            "cache_write_tokens = o.cache_write_tokens, rescue_usd = o.rescue_usd, usd = o.usd, "
            "frontier_sync_usd = o.frontier_sync_usd, sync_usd = o.sync_usd, uncached_usd = o.uncached_usd, "
            "finished_at = o.finished_at, answered_by = o.answered_by "
            f"FROM o WHERE r.custom_id = o.custom_id AND {match} AND r.superseded_at IS NULL"
        ))
