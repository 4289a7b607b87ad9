"""The cost benchmark: a labelled CSV replayed over days through the whole chain, against the naive baseline.

nightshift: ingest, embed, triage, route, batches (cache, small model, frontier; realtime now), collect,
day after day in a fresh home, so later days find earlier answers in the cache. The baseline, measured
in the same run: every ticket sent synchronously to the frontier model, no cache, no routing. Both
are priced from the price table and the token usage of the same responder.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from nightshift.lib.home import Home
from nightshift.llm import prompts
from nightshift.llm.batch_files import usage_of
from nightshift.llm.engine import Responder
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.pricing import PriceTable
from nightshift.quality.sampling import SHADOWED_ROUTES
from nightshift.reporting.cost_table import LEVERS
from nightshift.warehouse.answer_quality import QualitySQL
from nightshift.warehouse.database import Warehouse
from nightshift.warehouse.ticket_triage import TriageSQL


def baseline(home: Home, responder: Responder, prices: PriceTable) -> dict:
    """Every stored ticket, one synchronous frontier request at a time: $ and wall time."""
    tickets = TriageSQL(Warehouse(home.warehouse)).triaged()
    started, usd, tokens = time.perf_counter(), 0.0, 0
    for ticket in tickets:
        status, body = responder(prompts.reply_request(prices.frontier, ticket["text_redacted"], ticket["category"]))
        usage = usage_of(body)
        usd += prices.cost(prices.frontier, usage.input_tokens, usage.output_tokens)
        tokens += usage.input_tokens + usage.output_tokens
    return {"usd": usd, "tokens": tokens, "tickets": len(tickets), "wall_s": time.perf_counter() - started}


def run(csv: Path, mapping: str, days: int, run_nights, responder: Responder, prices: PriceTable, keep: Path | None) -> dict:
    """Replay ``csv`` over ``days`` days ending yesterday in a fresh home, run every night, then the baseline."""
    from nightshift.ingest.mapping import parse_map
    from nightshift.ingest.replay import replay_csv

    root = keep or Path(tempfile.mkdtemp(prefix="nightshift-bench-"))
    home = Home(root)
    first = date.today() - timedelta(days=days)
    replay_csv(csv, home.landing, parse_map(mapping), days, first)
    # The partitions start at the first landing day of $NIGHTSHIFT_HOME, not of this temporary home (read when the
    # definitions first load, after this).
    os.environ.setdefault("NIGHTSHIFT_FIRST_DAY", first.isoformat())
    started = time.perf_counter()
    # The replayed day files carry canonical column names, so the nights run without a mapping.
    summaries = run_nights(home, [first + timedelta(days=i) for i in range(days)], "")
    wall = time.perf_counter() - started
    naive = baseline(home, responder, prices)
    if not naive["tickets"]:
        raise ValueError(f"no ticket of {csv.name} was stored (see tickets_quarantine in {root}): nothing to compare")
    spent = sum(s["spent_usd"] for s in summaries)
    routes = {r: sum(s.get(f"route_{r}", 0) for s in summaries) for r in ("cache", "small_model", "frontier", "realtime")}
    # The levers are shares of nightshift's own per-day baseline (the same tickets priced synchronously on the frontier).
    own_baseline = sum(s["baseline_usd"] for s in summaries)
    levers = {f"saving_{lever}": round(sum(s[f"saving_{lever}"] * s["baseline_usd"] for s in summaries) / own_baseline, 4)
              if own_baseline else 0.0 for lever in LEVERS}
    db = Warehouse(home.warehouse)
    measured = QualitySQL(db).agreement(first - timedelta(days=1), first + timedelta(days=days))
    window = (db.rows("SELECT * FROM daily_cost_and_quality ORDER BY day DESC LIMIT 1") or [{}])[0]
    measuring = db.rows("SELECT coalesce(sum(shadow_usd), 0) AS shadow, coalesce(sum(judge_usd), 0) AS judge FROM answer_quality")[0]
    providers: dict[str, dict] = {}
    for model, row in BatchLedger(db, None, prices).by_model(first, first + timedelta(days=days)).items():
        paid = providers.setdefault(prices.provider_of(model), {"usd": 0.0, "requests": 0, "models": []})
        paid.update(usd=paid["usd"] + float(row["usd"]), requests=paid["requests"] + row["requests"], models=sorted([*paid["models"], model]))
    return {
        "csv": csv.name, "days": days, "tickets": naive["tickets"], "home": str(root),
        "nightshift_usd": round(spent, 6), "baseline_usd": round(naive["usd"], 6),
        "saving": round(1 - spent / naive["usd"], 4) if naive["usd"] else 0.0,
        "wall_s": round(wall, 1), "baseline_wall_s": round(naive["wall_s"], 1),
        "nightshift_tokens": sum(s["tokens"] for s in summaries), "baseline_tokens": naive["tokens"],
        "answered": sum(s.get("status_ok", 0) for s in summaries), "failed": sum(s.get("status_failed", 0) for s in summaries),
        **{f"route_{r}": n for r, n in routes.items()},
        "shadow_usd": round(sum(s["quality_usd"] for s in summaries), 6), **levers,
        **{f"quality_{r}": round(measured[r].rate or 0.0, 4) if r in measured else None for r in SHADOWED_ROUTES},
        **{f"quality_{r}_judged": measured[r].n if r in measured else 0 for r in SHADOWED_ROUTES},
        **{f"quality_{r}_low": round(measured[r].low, 4) if r in measured else None for r in SHADOWED_ROUTES},
        **{f"quality_{r}_high": round(measured[r].high, 4) if r in measured else None for r in SHADOWED_ROUTES},
        "judge_usd": round(float(measuring["judge"]), 6), "shadow_only_usd": round(float(measuring["shadow"]), 6),
        **estimates(window),
        "routes": prices.routes, "prices_as_of": prices.as_of,
        **{f"usd_{name}": round(paid["usd"], 6) for name, paid in sorted(providers.items())},
        **{f"requests_{name}": paid["requests"] for name, paid in sorted(providers.items())},
        **{f"models_{name}": ",".join(paid["models"]) for name, paid in sorted(providers.items())},
    }


def estimates(window: dict) -> dict:
    """The last night's 7-day estimate per cheap route (daily_cost_and_quality): its interval, estimator and worth."""
    found: dict = {}
    for r in SHADOWED_ROUTES:
        low, high = window.get(f"estimate_7d_{r}_low"), window.get(f"estimate_7d_{r}_high")
        found.update({f"estimate_{r}": rounded(window.get(f"estimate_7d_{r}")), f"estimate_{r}_low": rounded(low),
                      f"estimate_{r}_high": rounded(high), f"estimator_{r}": window.get(f"estimator_7d_{r}"),
                      f"effective_n_{r}": rounded(window.get(f"effective_n_7d_{r}"), 1),
                      f"half_width_{r}": rounded((high - low) / 2) if low is not None and high is not None else None})
    return found


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def report(result: dict) -> str:
    rows = [("nightshift", result["nightshift_usd"], result["nightshift_tokens"], result["wall_s"]),
            ("baseline: frontier, synchronous, no cache", result["baseline_usd"], result["baseline_tokens"], result["baseline_wall_s"])]
    lines = [f"{result['tickets']} tickets from {result['csv']} over {result['days']} days; prices of {result['prices_as_of']}",
             f"{'':44} {'$':>10} {'tokens':>10} {'wall s':>8}"]
    lines += [f"{name:44} {usd:10.4f} {tokens:10d} {wall:8.1f}" for name, usd, tokens, wall in rows]
    lines.append(f"saving {result['saving']:.1%}; nightshift costs {1 - result['saving']:.3f}x the baseline; routes: "
                 + ", ".join(f"{r} {result[f'route_{r}']}" for r in ("cache", "small_model", "frontier", "realtime")))
    providers = sorted(key.removeprefix("usd_") for key in result if key.startswith("usd_"))
    lines.append("$ per provider: " + ", ".join(
        f"{name} ${result[f'usd_{name}']:.4f} ({result[f'requests_{name}']} requests: {result[f'models_{name}']})" for name in providers))
    lines.append("saving by lever: " + ", ".join(f"{lever.replace('_', ' ')} {result[f'saving_{lever}']:.1%}" for lever in LEVERS)
                 + f"; measuring quality and safety cost ${result['shadow_usd']:.4f}, inside the saving")
    measuring, baseline = result["shadow_usd"], result["baseline_usd"] or 1.0
    lines.append(f"measuring: shadow answers ${result['shadow_only_usd']:.4f}, judge ${result['judge_usd']:.4f} "
                 f"({result['judge_usd'] / result['nightshift_usd'] if result['nightshift_usd'] else 0:.1%} of nightshift's $, "
                 f"{result['judge_usd'] / baseline:.1%} of the baseline), safety classifier "
                 f"${measuring - result['shadow_only_usd'] - result['judge_usd']:.4f}; "
                 f"saving before measuring {1 - (result['nightshift_usd'] - measuring) / baseline:.1%}")
    lines.append(f"{'agreement with the frontier model':34} {'judged (Wilson)':>26} {'all answers, 7 days':>28} {'estimator':>10} {'worth':>6}")
    for r in SHADOWED_ROUTES:
        judged = (f"{result[f'quality_{r}']:.3f} [{result[f'quality_{r}_low']:.2f}, {result[f'quality_{r}_high']:.2f}] "
                  f"of {result[f'quality_{r}_judged']}" if result[f"quality_{r}"] is not None else "not measured")
        estimated = (f"{result[f'estimate_{r}']:.3f} [{result[f'estimate_{r}_low']:.2f}, {result[f'estimate_{r}_high']:.2f}] "
                     f"+-{result[f'half_width_{r}']:.3f}" if result[f"half_width_{r}"] is not None else "not measured")
        worth = f"{result[f'effective_n_{r}']:.0f}" if result[f"effective_n_{r}"] is not None else "-"
        lines.append(f"{r:34} {judged:>26} {estimated:>28} {result[f'estimator_{r}'] or '-':>10} {worth:>6}")
    return "\n".join(lines) + "\n" + json.dumps(result)
