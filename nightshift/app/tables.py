"""What the CLI prints: the consoles, the per-day summary of a run, query results and the cost-and-quality report."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from nightshift.reporting import cost_table


# A terminal's width is its own, or COLUMNS; a pipe or a log gets 100 columns (rich would assume 80) unless COLUMNS says.
def width(stream) -> int | None:
    return None if stream.isatty() or os.environ.get("COLUMNS", "").isdigit() else 100


console = Console(stderr=True, width=width(sys.stderr))
stdout = Console(width=width(sys.stdout))

# The summary of a run, in two tables that each fit 100 columns: (header, metadata key); a column shows only when some
# day has that key. Rows in = stored + quarantined (raw_tickets' rows_reconcile check holds it).
TICKET_COLUMNS = (
    ("stored", "rows_stored"), ("quarantined", "rows_quarantined"), ("redacted", "redactions"), ("embedded", "embedded"),
    ("cache", "route_cache"), ("small", "route_small_model"), ("frontier", "route_frontier"), ("realtime", "route_realtime"),
    ("answered", "status_ok"), ("failed", "status_failed"),
)
COST_COLUMNS = (
    ("tickets/s", "tickets_per_s"), ("expected $", "expected_usd"), ("$ spent", "spent_usd"), ("frontier sync $", "baseline_usd"),
    ("saving", "saving"), ("checks", "checks"),
)
FORMATS = {"saving": "{:.1%}", "tickets_per_s": "{:.0f}"}
# Once a day's answers are in, actual $ replace the estimate and ingest details give way to the cost.
SUPERSEDED = {"spent_usd": ("expected_usd", "redactions", "tickets_per_s", "embedded")}


def progress_bar() -> Progress:
    """A bar on a terminal; none in a pipe or a log, where its last frame would stay behind above the tables."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                    disable=not console.is_terminal)


def cell(value, key: str = "") -> str:
    if key in FORMATS and isinstance(value, (int, float)):
        return FORMATS[key].format(value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_summaries(summaries: list[dict]) -> None:
    """What `run` and `demo` print: a table of tickets and routes, and one of cost and checks, a row per day."""
    hidden = {k for key, keys in SUPERSEDED.items() if any(key in s for s in summaries) for k in keys}
    spent = any("spent_usd" in s for s in summaries)
    for columns in (TICKET_COLUMNS, COST_COLUMNS):
        shown = [(header, key) for header, key in columns if key not in hidden and any(key in s for s in summaries)]
        if not shown:
            continue
        table = Table(Column("day", no_wrap=True), *(Column(header, overflow="fold") for header, _ in shown))
        for s in summaries:
            table.add_row(*map(Text, (s["day"], *(cell(s.get(key, ""), key) for _, key in shown))))
        if len(summaries) > 1 or spent:
            table.add_row(*map(Text, ("all", *(cell(totals(summaries, shown).get(key, ""), key) for _, key in shown))), style="bold")
        stdout.print(table)
    for s in summaries:
        if s.get("check_problems"):
            stdout.print(Text(f"{s['day']} checks: {s['check_problems']}"))


def totals(summaries: list[dict], shown: list[tuple[str, str]]) -> dict:
    """The days together: counts summed, and once answers are in, $ summed and the saving over the summed baseline."""
    out = {key: sum(s.get(key, 0) for s in summaries) for _, key in shown
           if key not in ("saving", "tickets_per_s") and all(isinstance(s.get(key, 0), (int, float)) for s in summaries)}
    if any("spent_usd" in s for s in summaries):
        baseline = sum(s["baseline_usd"] for s in summaries)
        out["saving"] = 1 - sum(s["spent_usd"] for s in summaries) / baseline if baseline else 0.0
    return out


def print_rows(columns: list[str], rows: list[tuple]) -> None:
    # Text, not markup, headers included: a stored "[EMAIL]" or "[offline responder, no model]" is data, not a style tag.
    # A value too wide for its column folds onto the next line: never cut to "…".
    table = Table(*(Column(Text(name), overflow="fold") for name in columns))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    stdout.print(table)


def print_report(rows: list[dict], wide: bool = False) -> None:
    """The cost tables, then the quality tables: what measuring cost, which lever saved what, how good cheap answers
    were; narrow ones with a title each (a 100-column terminal holds them), or with ``wide`` three tables of many columns."""
    wide_tables = (("", cost_table.COLUMNS), ("", cost_table.LEVER_COLUMNS), ("", cost_table.AGREEMENT_COLUMNS))
    tables = wide_tables if wide else cost_table.NARROW_TABLES
    for title, columns in tables:
        if title:
            stdout.print(Text(title, style="bold"))
        out = Table(*(Column(header, overflow="fold") for header, _ in columns))
        out.columns[0].no_wrap = True  # a day is never cut to "2026-11…"
        for row in rows:
            out.add_row(*map(Text, cost_table.cells(row, columns)))
        out.add_row(*map(Text, cost_table.cells(cost_table.totals(rows), columns)), style="bold")
        stdout.print(out)
