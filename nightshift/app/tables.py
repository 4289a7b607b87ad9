"""What the CLI prints: the consoles, the per-day summary of a run, query results and the cost-and-quality report."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from nightshift.reporting import cost_table

# When output goes to a pipe or a log, rich would assume 80 columns and squeeze tables and reports.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 180)
stdout = Console(width=None if sys.stdout.isatty() else 180)

# Summary columns: (header, metadata key); a column shows only when some day has that key.
COLUMNS = (
    ("in", "rows_in"), ("stored", "rows_stored"), ("quarantined", "rows_quarantined"), ("redacted", "redactions"),
    ("embedded", "embedded"), ("tickets/s", "tickets_per_s"), ("cache", "route_cache"),
    ("small", "route_small_model"), ("frontier", "route_frontier"), ("realtime", "route_realtime"),
    ("expected $", "expected_usd"), ("answered", "status_ok"), ("failed", "status_failed"), ("$ spent", "spent_usd"),
    ("frontier sync $", "baseline_usd"), ("saving", "saving"), ("checks", "checks"),
)
# Once a day's answers are in, actual $ replace the estimate and ingest details give way to the cost.
SUPERSEDED = {"spent_usd": ("expected_usd", "redactions", "tickets_per_s", "embedded")}


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)


def cell(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_summaries(summaries: list[dict]) -> None:
    hidden = {k for key, keys in SUPERSEDED.items() if any(key in s for s in summaries) for k in keys}
    shown = [(header, key) for header, key in COLUMNS if key not in hidden and any(key in s for s in summaries)]
    table = Table("day", *(header for header, _ in shown))
    for s in summaries:
        table.add_row(*map(Text, (s["day"], *(cell(s.get(key, "")) for _, key in shown))))
    if any("spent_usd" in s for s in summaries):
        spent, baseline = sum(s["spent_usd"] for s in summaries), sum(s["baseline_usd"] for s in summaries)
        totals = {"spent_usd": spent, "baseline_usd": baseline, "saving": 1 - spent / baseline if baseline else 0.0}
        totals.update({key: sum(s.get(key, 0) for s in summaries) for _, key in shown
                       if key not in totals and all(isinstance(s.get(key, 0), int) for s in summaries)})
        table.add_row(*map(Text, ("all", *(cell(totals.get(key, "")) for _, key in shown))), style="bold")
    stdout.print(table)
    for s in summaries:
        if s.get("check_problems"):
            stdout.print(Text(f"{s['day']} checks: {s['check_problems']}"))


def print_rows(columns: list[str], rows: list[tuple]) -> None:
    # Text, not markup, headers included: a stored "[EMAIL]" or "[offline responder, no model]" is data, not a style tag.
    table = Table(*(Column(Text(name)) for name in columns))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    stdout.print(table)


def print_report(rows: list[dict]) -> None:
    """The cost table, then the quality table: what measuring cost, which lever saved what, how good cheap answers were."""
    for columns in (cost_table.COLUMNS, cost_table.QUALITY_COLUMNS):
        out = Table(*(header for header, _ in columns))
        for column in out.columns:  # a day is never cut to "2026-11…", nor an interval to two lines
            column.no_wrap = True
        for row in rows:
            out.add_row(*map(Text, cost_table.cells(row, columns)))
        out.add_row(*map(Text, cost_table.cells(cost_table.totals(rows), columns)), style="bold")
        stdout.print(out)
