"""The cost-and-quality table as people read it: the same columns in the UI's markdown and in `nightshift report`.

sync $ is the naive baseline (every ticket synchronously on the frontier model); false hits is the cache's
false-hit rate measured on labelled history; valid is the share of answers that followed their schema;
human is the share of answers that ask for a person; turn s is the slowest batch's turnaround; checks is the share
of the day's asset checks that passed (those evaluated when the row was computed).
"""

from __future__ import annotations

from nightshift.lib.markdown import markdown_table

# (header, column, format)
COLUMNS = (
    ("day", "day", "{}"), ("tickets", "tickets", "{}"), ("cache", "route_cache", "{}"), ("small", "route_small_model", "{}"),
    ("frontier", "route_frontier", "{}"), ("realtime", "route_realtime", "{}"), ("$ spent", "spent_usd", "{:.4f}"),
    ("sync $", "baseline_usd", "{:.4f}"), ("saving", "saving", "{:.1%}"), ("tokens", "tokens", "{:,}"),
    ("false hits", "cache_false_hit_rate", "{:.2%}"), ("conf.", "mean_confidence", "{:.3f}"),
    ("valid", "valid_json_rate", "{:.1%}"), ("failed", "failed", "{}"), ("human", "needs_human_share", "{:.1%}"),
    ("turn s", "batch_turnaround_s", "{:.0f}"), ("checks", "check_pass_rate", "{:.0%}"),
)


def cells(row: dict) -> list[str]:
    return ["" if row.get(column) is None else fmt.format(row[column]) for _, column, fmt in COLUMNS]


def totals(rows: list[dict]) -> dict:
    """The days together: sums, the saving of the sums, and the worst turnaround."""
    if not rows:
        return {}
    summed = {c: sum(r[c] or 0 for r in rows) for c in ("tickets", "route_cache", "route_small_model", "route_frontier",
                                                         "route_realtime", "spent_usd", "baseline_usd", "tokens", "failed",
                                                         "checks", "checks_passed")}
    baseline = summed["baseline_usd"]
    return {**summed, "day": "all", "saving": 1 - summed["spent_usd"] / baseline if baseline else 0.0,
            "check_pass_rate": summed["checks_passed"] / summed["checks"] if summed["checks"] else None,
            "batch_turnaround_s": max((r["batch_turnaround_s"] or 0) for r in rows)}


def markdown(rows: list[dict]) -> str:
    return markdown_table([h for h, _, _ in COLUMNS], [cells(r) for r in [*rows, totals(rows)] if r])
