"""One night through the whole chain at scale: wall time per asset, tickets/s, peak memory, and what history costs.

    python -m bench.night --tickets 10000 --history-days 0
    python -m bench.night --tickets 2000 --history-days 60
    python -m bench.night --csv FILE --map text=...   # the night is the CSV's rows instead of sample tickets

Each night runs in a fresh home and a process of its own (so peak RSS is the night's alone), through the
real assets, checks and batch collection with the local batch engine and the offline responder. With
``--history-days D`` the same night is run twice in the same run of the benchmark: once in a home with no
past, once after D days of history, and ``history_slowdown`` is the second wall over the first.

History is built the cheap way that still gives the night real tables to read: one real night of the
same size is run for the day before, then its rows (every day-keyed DuckDB table and the LanceDB
embeddings and answer cache) are copied to the D-1 days before that under new ticket ids. The last line
is JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

NIGHT = date(2026, 3, 2)  # fixed, so two runs of the benchmark night see the same tickets


def write_night(home, day: date, tickets: int, csv: str | None, mapping: str) -> None:
    from nightshift.ingest.samples import SampleSpec, write_day
    from nightshift.knowledge.sample import write_sample

    if csv:
        from nightshift.ingest.mapping import parse_map
        from nightshift.ingest.replay import replay_csv

        replay_csv(Path(csv), home.landing, parse_map(mapping), 1, day)
    else:
        write_day(home.landing, day, SampleSpec(tickets_per_day=tickets))
    write_sample(home.knowledge)


class MemorySampler(threading.Thread):
    """Resident memory of this process every 0.2 s, so a peak can be put on the step that ran at the time."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []  # (unix time, MB)
        self.stopped = threading.Event()

    def run(self) -> None:
        page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        while not self.stopped.wait(0.2):
            with open("/proc/self/statm") as statm:
                self.samples.append((time.time(), int(statm.read().split()[1]) * page_mb))


def step_profile(instance, since: float, samples: list[tuple[float, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Wall seconds and peak resident MB per step (asset, check, or op of a chunked asset, its chunks summed) of every
    run the instance started after ``since``."""
    import dagster as dg

    started: dict[tuple[str, str], float] = {}
    seconds: dict[str, float] = defaultdict(float)
    peak: dict[str, float] = defaultdict(float)
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    for record in instance.get_run_records():
        if record.create_timestamp.timestamp() < since:
            continue
        run_id = record.dagster_run.run_id
        for entry in instance.all_logs(run_id, of_type=kinds):
            key = (run_id, entry.step_key)
            if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                started[key] = entry.timestamp
            elif key in started:
                begun = started.pop(key)
                step = entry.step_key.split("[")[0]  # a chunked asset's chunks (asset.op[chunk]) count as one op
                seconds[step] += entry.timestamp - begun
                during = [mb for at, mb in samples if begun <= at <= entry.timestamp]
                peak[step] = max([peak[step], *during])
    return dict(seconds), dict(peak)


def run_night(root: Path, day: date) -> dict:
    """The night of ``day`` in the home at ``root``: nightly job and batch collection, timed (child process)."""
    from nightshift.app.code_location import build_definitions
    from nightshift.app.instance import cli_instance
    from nightshift.app.runner import run_days
    from nightshift.lib.home import Home

    home = Home(root)
    instance = cli_instance(home)
    sampler = MemorySampler()
    sampler.start()
    since = time.time()
    started = time.perf_counter()
    summary = run_days(build_definitions(home, None), instance, "nightly_job", [day], collect=True)[0]
    wall = time.perf_counter() - started
    sampler.stopped.set()
    seconds, peaks = step_profile(instance, since, sampler.samples)
    return {
        "wall_s": round(wall, 2), "tickets": summary.get("tickets", 0),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "steps": {k: round(v, 2) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])},
        "step_peak_rss_mb": {k: round(v) for k, v in sorted(peaks.items(), key=lambda kv: -kv[1])},
        "checks": summary.get("checks"),
    }


def child(args: list[str]) -> dict:
    """Run this module in a fresh process (its own peak RSS) and return the JSON of its last line."""
    done = subprocess.run([sys.executable, "-m", "bench.night", *args], check=False, text=True, capture_output=True)
    if done.returncode:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-6000:])
        raise SystemExit(f"bench.night {' '.join(args)} failed with exit {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured_night(tickets: int, history_days: int, csv: str | None, mapping: str, keep: Path | None,
                   profile: Path | None = None) -> dict:
    root = keep or Path(tempfile.mkdtemp(prefix="nightshift-night-"))
    common = ["--tickets", str(tickets), "--map", mapping] + (["--csv", csv] if csv else [])
    try:
        if history_days:
            child(["--stage", "history", "--home", str(root), "--history-days", str(history_days), *common])
        result = child(["--stage", "night", "--home", str(root), *common, *(["--profile", str(profile)] if profile else [])])
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)  # a 100,000-ticket home is gigabytes
    return {**result, "history_days": history_days}


def stage(args: argparse.Namespace) -> dict:
    """One stage in this (child) process: write the history, or write and run the measured night."""
    from nightshift.lib.home import Home

    home = Home(Path(args.home))
    os.environ.update(NIGHTSHIFT_HOME=str(home.root), LANCEDB_LOG="error")
    # A throughput benchmark: a 100,000-ticket night projects more than the default $25 a day, which the budget check
    # would rightly stop before any batch is sent.
    os.environ.setdefault("NIGHTSHIFT_DAILY_BUDGET_USD", "1000000")
    os.environ.pop("DAGSTER_HOME", None)
    if args.stage == "history":
        from bench.history import build_history

        return build_history(home, NIGHT, args.history_days,
                             lambda day: write_night(home, day, args.tickets, args.csv, args.map), run_night)
    write_night(home, NIGHT, args.tickets, args.csv, args.map)
    if not args.profile:
        return run_night(home.root, NIGHT)
    profile = cProfile.Profile()
    result = profile.runcall(run_night, home.root, NIGHT)
    profile.dump_stats(args.profile)
    with open(f"{args.profile}.txt", "w") as out:
        pstats.Stats(str(args.profile), stream=out).sort_stats("tottime").print_stats(40)
    return result


def table(results: list[dict]) -> str:
    steps = sorted({s for r in results for s in r["steps"]}, key=lambda s: -max(r["steps"].get(s, 0) for r in results))
    head = f"{'step':40}" + "".join(f"{'history ' + str(r['history_days']) + ' d':>16}" for r in results)
    lines = [head] + [f"{s:40}" + "".join(f"{r['steps'].get(s, 0):15.2f}s" for r in results) for s in steps[:15]]
    lines.append(f"{'night wall':40}" + "".join(f"{r['wall_s']:15.2f}s" for r in results))
    lines.append(f"{'tickets/s':40}" + "".join(f"{r['tickets'] / r['wall_s']:16.1f}" for r in results))
    lines.append(f"{'peak RSS MB':40}" + "".join(f"{r['peak_rss_mb']:16.0f}" for r in results))
    top = max(results[-1]["step_peak_rss_mb"].items(), key=lambda kv: kv[1], default=("none", 0))
    lines.append(f"{'step at the peak':40}{top[0]} ({top[1]:.0f} MB)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets in the measured night (and each day of history)")
    parser.add_argument("--history-days", type=int, default=0, help="days of history before the night")
    parser.add_argument("--csv", help="the night is every row of this CSV (instead of --tickets sample tickets)")
    parser.add_argument("--map", default="", help="column mapping for --csv, as for `nightshift replay`")
    parser.add_argument("--keep", type=Path, help="keep the home with history in this (new) directory")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the last night here (and its top 40 to FILE.txt)")
    parser.add_argument("--stage", choices=("history", "night"), help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args)))
        return

    print(f"{datetime.now():%Y-%m-%d %H:%M}: a night of {args.tickets} tickets, {os.cpu_count()} cores", flush=True)
    results = [measured_night(args.tickets, 0, args.csv, args.map, None if args.history_days else args.keep,
                              None if args.history_days else args.profile)]
    if args.history_days:
        results.append(measured_night(args.tickets, args.history_days, args.csv, args.map, args.keep, args.profile))
    print(table(results))
    last, fresh = results[-1], results[0]
    print(json.dumps({
        "tickets": last["tickets"], "wall_s": last["wall_s"], "tickets_per_s": round(last["tickets"] / last["wall_s"], 1),
        "peak_rss_mb": last["peak_rss_mb"], "history_days": args.history_days,
        "history_slowdown": round(last["wall_s"] / fresh["wall_s"], 3),
        "fresh_wall_s": fresh["wall_s"], "fresh_peak_rss_mb": fresh["peak_rss_mb"], "cores": os.cpu_count(),
        "steps": last["steps"], "step_peak_rss_mb": last["step_peak_rss_mb"], "checks": last["checks"],
    }))


if __name__ == "__main__":
    main()
