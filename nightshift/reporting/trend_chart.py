"""The cost-and-quality trend as one picture: what the days cost against the baseline, how the tickets were routed,
and whether the cheap routes kept their quality. The UI shows it on daily_cost_and_quality; `nightshift report --plot`
writes the same PNG.
"""

from __future__ import annotations

import base64
import io

ROUTES = (("route_cache", "cache", "#4c9f70"), ("route_small_model", "small model", "#5b8def"),
          ("route_frontier", "frontier", "#e0a030"), ("route_realtime", "realtime", "#d0554c"))
# The rolling window's agreement: a day alone judges too few answers to say much.
QUALITY = (("small_model", "small model", "#5b8def"), ("cache", "cache", "#4c9f70"))


def png(rows: list[dict], target: float | None = None) -> bytes:
    """Three panels over the days of ``rows`` (daily_cost_and_quality rows, oldest first)."""
    # Imported here: matplotlib takes most of a second to load, which every process loading the definitions would pay.
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt

    days = [str(r["day"])[5:] for r in rows]  # MM-DD: the year is in the title
    x = range(len(rows))
    fig, (cost, mix, quality) = plt.subplots(3, 1, figsize=(9, 8.5), sharex=True, constrained_layout=True)
    title = f"nightshift, {rows[0]['day']} to {rows[-1]['day']}" if rows else "nightshift: no days yet"
    fig.suptitle(title, fontsize=12)

    cost.plot(x, [r["baseline_usd"] or 0 for r in rows], "o--", color="#888888", label="frontier, synchronous (baseline)")
    cost.plot(x, [r["spent_usd"] or 0 for r in rows], "o-", color="#222222", label="spent")
    cost.set_ylabel("US $ per day")
    cost.set_ylim(bottom=0)
    saving = cost.twinx()
    saving.plot(x, [100 * (r["saving"] or 0) for r in rows], "s:", color="#2a7f62", label="saving")
    saving.set_ylabel("saving, %", color="#2a7f62")
    saving.set_ylim(0, 100)
    lines = cost.get_legend_handles_labels()[0] + saving.get_legend_handles_labels()[0]
    cost.legend(lines, [line.get_label() for line in lines], loc="center left", fontsize=8)
    cost.set_title("Cost against the baseline", fontsize=10, loc="left")

    bottom = [0] * len(rows)
    for column, label, colour in ROUTES:
        counts = [r[column] or 0 for r in rows]
        mix.bar(x, counts, bottom=bottom, color=colour, label=label)
        bottom = [b + c for b, c in zip(bottom, counts)]
    mix.set_ylabel("tickets")
    mix.set_ylim(0, 1.35 * max(bottom, default=0) or 1)  # headroom for the legend
    mix.legend(loc="upper left", fontsize=8, ncols=4)
    mix.set_title("Route mix", fontsize=10, loc="left")

    for shift, (route, label, colour) in enumerate(QUALITY, start=1):
        judged = [(i, r) for i, r in zip(x, rows) if r.get(f"sampled_7d_{route}")]
        if not judged:
            continue
        at = [i for i, _ in judged]
        rate = [100 * r[f"agreement_7d_{route}"] for _, r in judged]
        low = [100 * r[f"agreement_7d_{route}_low"] for _, r in judged]
        high = [100 * r[f"agreement_7d_{route}_high"] for _, r in judged]
        quality.fill_between(at, low, high, color=colour, alpha=0.15)
        quality.plot(at, rate, "o-", color=colour, label=f"{label} (95% interval shaded)")
        # The estimate from every answer's signals (PPI++, or Wilson where that is not sound), a little to the right (each
        # route by its own step) so the intervals' bars hide neither the judged line nor each other.
        estimated = [(i, r) for i, r in judged if r.get(f"estimate_7d_{route}_low") is not None]
        if estimated:
            centre = [100 * r[f"estimate_7d_{route}"] for _, r in estimated]
            # Clipped at 0: an interval's end computed apart from its centre can sit a rounding error inside it.
            spread = [[max(0.0, c - 100 * r[f"estimate_7d_{route}_low"]) for c, (_, r) in zip(centre, estimated)],
                      [max(0.0, 100 * r[f"estimate_7d_{route}_high"] - c) for c, (_, r) in zip(centre, estimated)]]
            quality.errorbar([i + 0.08 * shift for i, _ in estimated], centre, yerr=spread, fmt="x", color=colour, capsize=3, linewidth=1,
                             label=f"{label}, estimated from every answer")
    if target is not None:
        quality.axhline(100 * target, color="#d0554c", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    quality.set_ylim(0, 105)
    quality.set_ylabel("agrees with frontier, %")
    quality.legend(loc="lower left", fontsize=8)
    quality.set_title("Cheap routes: agreement, rolling window (judged; estimated with its 95% interval)", fontsize=10, loc="left")
    quality.set_xticks(list(x), days, rotation=45 if len(rows) > 10 else 0, fontsize=8)

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=80)
    plt.close(fig)
    return out.getvalue()


def markdown_image(image: bytes) -> str:
    """The PNG inline, as the UI's markdown metadata renders it."""
    return f"![cost and quality trend](data:image/png;base64,{base64.b64encode(image).decode()})"
