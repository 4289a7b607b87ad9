"""The cost-and-quality tables as people read them: the same columns in the UI's markdown and in `nightshift report`.

The cost table: sync $ is the naive baseline (every ticket synchronously on the frontier model); false hits is the
cache's false-hit rate measured on labelled history; valid is the share of answers that followed their schema; human
is the share of answers that ask for a person; turn s is the slowest batch's turnaround; rescued counts the tickets
answered synchronously because their batch would have missed its deadline, and rescue $ what that cost over the batch
price; checks is the share of the day's asset checks that passed (those evaluated when the row was computed).

The quality table: the saving by lever as shares of the baseline (batch discount, routing to the small model, cache
hits, prompt caching), what measuring cost (shadow and judge $, which the levers pay for), and per cheap route the
judge's agreement with the frontier model, with its 95% interval and sample size, that day and over the rolling window.
"""

from __future__ import annotations

from collections.abc import Callable

from nightshift.lib.markdown import markdown_table
from nightshift.lib.stats import wilson
from nightshift.quality.sampling import SHADOWED_ROUTES

Render = Callable[[dict], str]
LEVERS = ("batch", "routing", "cache", "prompt_cache")


def plain(column: str, fmt: str = "{}") -> Render:
    return lambda row: "" if row.get(column) is None else fmt.format(row[column])


def agreement(route: str, infix: str = "") -> Render:
    """'92% (0.81-0.97, 40)': the agreement, its 95% interval and how many were judged."""
    def render(row: dict) -> str:
        n = row.get(f"sampled_{infix}{route}")
        if not n:
            return ""
        key = f"agreement_{infix}{route}"
        return f"{row[key]:.0%} ({row[key + '_low']:.2f}-{row[key + '_high']:.2f}, {n})"
    return render


def estimated(route: str) -> Render:
    """'91% (0.86-0.95, ppi++ 74)': the 7-day agreement from every answer's signals and the judged sample, its 95%
    interval, the estimator that gave it and how many judged answers it is worth."""
    def render(row: dict) -> str:
        key = f"estimate_7d_{route}"
        if row.get(key) is None or row.get(key + "_low") is None:
            return ""
        worth = f"{row[f'estimator_7d_{route}']} {row[f'effective_n_7d_{route}']:.0f}"
        return f"{row[key]:.0%} ({row[key + '_low']:.2f}-{row[key + '_high']:.2f}, {worth})"
    return render


COLUMNS: tuple[tuple[str, Render], ...] = (
    ("day", plain("day")), ("tickets", plain("tickets")), ("cache", plain("route_cache")), ("small", plain("route_small_model")),
    ("frontier", plain("route_frontier")), ("realtime", plain("route_realtime")), ("$ spent", plain("spent_usd", "{:.4f}")),
    ("sync $", plain("baseline_usd", "{:.4f}")), ("saving", plain("saving", "{:.1%}")), ("tokens", plain("tokens", "{:,}")),
    ("false hits", plain("cache_false_hit_rate", "{:.2%}")), ("conf.", plain("mean_confidence", "{:.3f}")),
    ("valid", plain("valid_json_rate", "{:.1%}")), ("failed", plain("failed")), ("human", plain("needs_human_share", "{:.1%}")),
    ("turn s", plain("batch_turnaround_s", "{:.0f}")), ("rescued", plain("rescued_tickets")),
    ("rescue $", plain("rescue_usd", "{:.4f}")), ("checks", plain("check_pass_rate", "{:.0%}")),
)

QUALITY_COLUMNS: tuple[tuple[str, Render], ...] = (
    ("day", plain("day")), ("saving", plain("saving", "{:.1%}")),
    *((header, plain(f"saving_{lever}", "{:.1%}")) for header, lever in zip(("batch", "routing", "cache hits", "prompt cache"), LEVERS)),
    ("quality $", plain("quality_usd", "{:.4f}")),
    ("small agrees", agreement("small_model")), ("small, 7 days", agreement("small_model", "7d_")),
    ("small, estimated", estimated("small_model")),
    ("cache agrees", agreement("cache")), ("cache, 7 days", agreement("cache", "7d_")), ("cache, estimated", estimated("cache")),
)


# The same columns as narrower tables for the UI, whose metadata column cuts a wide table off: cost and routes, the
# day's health, the saving by lever, the judged agreement.
COST_COLUMNS = COLUMNS[:9]
ANSWER_COLUMNS = (COLUMNS[0], *COLUMNS[9:15])
BATCH_COLUMNS = (COLUMNS[0], *COLUMNS[15:])
LEVER_COLUMNS = QUALITY_COLUMNS[:7]
# Seconds per stage of the night (the batch wait is the slowest batch, submit to finish).
STAGES = ("ingest", "embed", "triage", "submit", "collect")
TIME_COLUMNS: tuple[tuple[str, Render], ...] = (
    ("day", plain("day")), *((stage, plain(f"{stage}_s", "{:.1f}")) for stage in STAGES[:-1]),
    ("batch wait", plain("batch_turnaround_s", "{:.1f}")), ("collect", plain("collect_s", "{:.1f}")),
)
AGREEMENT_COLUMNS = (QUALITY_COLUMNS[0], *QUALITY_COLUMNS[7:])
# What `nightshift report` prints by default, each narrow enough for a 100-column terminal (--wide: COLUMNS and
# QUALITY_COLUMNS, one row a day); the UI shows these and the stage times and the cache's table too.
NARROW_TABLES: tuple[tuple[str, tuple[tuple[str, Render], ...]], ...] = (
    ("Cost and routes", COST_COLUMNS),
    ("Answers", ANSWER_COLUMNS),
    ("Batches and checks", BATCH_COLUMNS),
    ("The saving by lever, and what measuring quality cost", LEVER_COLUMNS),
    # The estimate: every answer's free signals, corrected by the judged sample (PPI++), or Wilson where that is not sound.
    ("Small model: agreement with the frontier model (95% interval; judged, and estimated)", (QUALITY_COLUMNS[0], *QUALITY_COLUMNS[7:10])),
    ("Cache: agreement with the frontier model (95% interval; judged, and estimated)", (QUALITY_COLUMNS[0], *QUALITY_COLUMNS[10:13])),
)


def wrong_serves(row: dict) -> str:
    """'0.0% (0.00-0.06, 57)': the cache's wrong serves over 7 days, its 95% interval; empty before any was judged."""
    if row.get("cache_wrong_serve_rate") is None:
        return ""
    return f"{row['cache_wrong_serve_rate']:.1%} ({row['cache_wrong_serve_rate_low']:.2f}-{row['cache_wrong_serve_rate_high']:.2f})"


# What the cache let in and kept out, and how its serves fared (see cached_answers and cache_admissions).
TRUST_COLUMNS: tuple[tuple[str, Render], ...] = (
    ("day", plain("day")), ("admitted", plain("cache_admitted")), ("probation", plain("cache_probation")),
    ("refused", plain("cache_refused")), ("off-topic", plain("refused_off_topic")), ("category", plain("refused_category")),
    ("personal", plain("refused_personal_data")), ("safety", plain("refused_safety")), ("floor", plain("relevance_floor", "{:.2f}")),
    ("probes", plain("cache_probes")), ("judged serves", plain("cache_judged_serves")), ("wrong", plain("cache_wrong_serves")),
    ("wrong, 7 days", wrong_serves), ("taken back", plain("cache_withdrawn")),
)


def cells(row: dict, columns: tuple[tuple[str, Render], ...] = COLUMNS) -> list[str]:
    return [render(row) for _, render in columns]


def totals(rows: list[dict]) -> dict:
    """The days together: sums (the seconds each stage took included), the saving and its levers over the summed
    baseline, the worst turnaround, and each route's agreement over every day's judged answers."""
    if not rows:
        return {}
    summed = {c: sum(r.get(c) or 0 for r in rows)
              for c in ("tickets", "route_cache", "route_small_model", "route_frontier", "route_realtime", "spent_usd",
                        "baseline_usd", "tokens", "failed", "checks", "checks_passed", "quality_usd",
                        *(f"{stage}_s" for stage in STAGES))}
    baseline = summed["baseline_usd"]
    out = {**summed, "day": "all", "saving": 1 - summed["spent_usd"] / baseline if baseline else 0.0,
           "check_pass_rate": summed["checks_passed"] / summed["checks"] if summed["checks"] else None,
           "batch_turnaround_s": max((r["batch_turnaround_s"] or 0) for r in rows)}
    for lever in LEVERS:
        out[f"saving_{lever}"] = sum((r[f"saving_{lever}"] or 0) * r["baseline_usd"] for r in rows) / baseline if baseline else 0.0
    for route in SHADOWED_ROUTES:
        n = sum(r[f"sampled_{route}"] or 0 for r in rows)
        hits = sum(round((r[f"agreement_{route}"] or 0) * (r[f"sampled_{route}"] or 0)) for r in rows)
        share = wilson(hits, n)
        out.update({f"sampled_{route}": n, f"agreement_{route}": share.rate,
                    f"agreement_{route}_low": share.low, f"agreement_{route}_high": share.high})
    return out


def markdown(rows: list[dict], columns: tuple[tuple[str, Render], ...] = COLUMNS) -> str:
    return markdown_table([h for h, _ in columns], [cells(r, columns) for r in [*rows, totals(rows)] if r])
