"""OpenTelemetry traces of a night, exported over OTLP when the standard endpoint variable is set, and nothing otherwise.

Spans, and the attributes nightshift defines (the GenAI conventions have no batch job yet: semantic-conventions #1640):

- one per asset materialization and per check (``asset <key>``, ``check <asset>.<name>``), each a root span in a trace
  per Dagster run: the trace id is the run id, so a run found in the UI is found in the viewer;
- per batch, ``batch submit``, ``batch poll`` when its status changed, and ``batch collect``: a batch lives for hours
  across processes, so each is its own span linked to the submit span (whose context the ledger keeps);
- per model request, ``chat <model>`` with the GenAI attributes (gen_ai.*) and nightshift's: the ticket id (the
  correlation id from ingest to answer), route, kind, attempt, status, batch id and $;
- per ticket and stage, ``ticket ingest``, ``ticket triage`` and ``ticket answer``, carrying the ticket id.

Every span carries the partition day (``nightshift.day``) and the Dagster run id (``dagster.run_id``) of the step it
was made in. No endpoint, no provider: ``tracer()`` is None and callers skip building spans at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from uuid import UUID

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
PROJECT = "nightshift"  # the project Phoenix files the spans under (openinference.project.name)

# nightshift's own attributes, defined once.
TICKET_ID, ROUTE, KIND, COST_USD = "nightshift.ticket_id", "nightshift.route", "nightshift.kind", "nightshift.cost_usd"
BATCH_ID, ATTEMPT, STATUS, DAY = "nightshift.batch_id", "nightshift.attempt", "nightshift.status", "nightshift.day"
CUSTOM_ID, RUN_ID = "nightshift.custom_id", "dagster.run_id"

_provider = None
_run_trace: ContextVar[int | None] = ContextVar("nightshift_run_trace", default=None)  # the trace id a step's span takes
_scope: ContextVar[Mapping[str, object] | None] = ContextVar("nightshift_trace_scope", default=None)


def enabled() -> bool:
    return any(os.environ.get(name) for name in ENDPOINTS)


def tracer() -> trace.Tracer | None:
    """The process's tracer, exporting in batches over OTLP/HTTP to the configured endpoint; None when none is set."""
    global _provider
    if not enabled():
        return None
    if _provider is None:
        # Imported here: a process that traces nothing loads no SDK.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

        class RunTraceIds(RandomIdGenerator):
            """A step's root span starts its run's trace: the trace id is the run id."""

            def generate_trace_id(self) -> int:
                return _run_trace.get() or super().generate_trace_id()

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", PROJECT), "openinference.project.name": PROJECT})
        _provider = TracerProvider(resource=resource, id_generator=RunTraceIds())  # shuts down, and so flushes, at exit
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return _provider.get_tracer("nightshift")


def flush() -> None:
    if _provider is not None:
        _provider.force_flush()


def shutdown() -> None:
    """Export what is pending and stop: the next span sets up again from the environment."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def nanos(moment: datetime | None) -> int | None:
    """A naive UTC timestamp (as DuckDB keeps them) in epoch nanoseconds."""
    if moment is None:
        return None
    return int(moment.timestamp() * 1e9) if moment.tzinfo else int((moment - datetime(1970, 1, 1)).total_seconds() * 1e9)


@contextmanager
def step(name: str, run_id: str | None, day: str | None, **attributes: object) -> Iterator[None]:
    """A span around one step of a run (an asset or a check), with the run id and day on every span made inside; outside
    a run (``run_id`` None), a trace of its own."""
    active = tracer()
    if active is None or _scope.get() is not None:  # off, or a step calling another's function (a gate running its checks)
        yield
        return
    scope = {RUN_ID: run_id, DAY: day}
    token, run = _scope.set(scope), _run_trace.set(UUID(run_id).int if run_id else None)  # Dagster's run ids are UUIDs
    try:
        with active.start_as_current_span(name, context=Context(), attributes=clean({**scope, **attributes})):
            yield
    finally:
        _run_trace.reset(run)
        _scope.reset(token)
        flush()


def clean(attributes: Mapping[str, object]) -> dict[str, str | bool | int | float]:
    """Attributes OTel takes: None left out, everything else a str, bool, int or float."""
    return {k: v if isinstance(v, (str, bool, int, float)) else str(v) for k, v in attributes.items() if v is not None}


def span(name: str, attributes: Mapping[str, object], start: datetime | None = None, end: datetime | None = None,
         links: Iterable[SpanContext] = (), failed: str | None = None, kind: SpanKind = SpanKind.INTERNAL) -> SpanContext | None:
    """One finished span under the current one, with the step's scope; ``start``/``end`` when it happened earlier than now
    (a request that waited in a batch). Returns its context (to link to), or None when tracing is off."""
    active = tracer()
    if active is None:
        return None
    made = active.start_span(name, kind=kind, attributes=clean({**(_scope.get() or {}), **attributes}), links=[Link(c) for c in links],
                             start_time=nanos(start))
    if failed:
        made.set_status(Status(StatusCode.ERROR, failed))
    made.end(end_time=nanos(end))
    return made.get_span_context()


def context_text(context: SpanContext | None) -> str | None:
    """A span context as the ledger keeps it (trace id - span id, hex), to link later spans to."""
    return None if context is None else f"{context.trace_id:032x}-{context.span_id:016x}"


def context_of(text: str | None) -> list[SpanContext]:
    if not text:
        return []
    trace_id, span_id = text.split("-")
    return [SpanContext(trace_id=int(trace_id, 16), span_id=int(span_id, 16), is_remote=True)]


def request(row: Mapping, outcome: Mapping, provider: str, response_id: str | None = None) -> None:
    """The span of one model request: the GenAI attributes, and nightshift's."""
    span(f"chat {row['model']}", {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": row["model"], "gen_ai.provider.name": provider,
        "gen_ai.usage.input_tokens": int(outcome["input_tokens"]), "gen_ai.usage.output_tokens": int(outcome["output_tokens"]),
        "gen_ai.response.id": response_id, "gen_ai.response.model": outcome.get("answered_by"),
        TICKET_ID: row.get("ticket_id"), ROUTE: row.get("route"), KIND: row.get("kind"),
        CUSTOM_ID: row["custom_id"], ATTEMPT: int(row["attempt"]), BATCH_ID: row.get("batch_id"), STATUS: outcome["status"],
        COST_USD: float(outcome["usd"]), DAY: str(row["day"]) if row.get("day") else None,
    }, start=row.get("submitted_at"), end=outcome.get("finished_at"), links=context_of(row.get("trace_context")),
        failed=outcome["error"] if outcome["status"] != "ok" else None, kind=SpanKind.CLIENT)


def tickets(stage: str, rows: Iterable[Mapping], fields: Iterable[str]) -> None:
    """A span per ticket for a stage (``ticket ingest``, ``ticket triage``, ``ticket answer``): its id and its ``fields``."""
    if tracer() is None:
        return
    names = tuple(fields)
    for row in rows:
        span(f"ticket {stage}", {TICKET_ID: row["ticket_id"], **{f"nightshift.{name}": row.get(name) for name in names}})
