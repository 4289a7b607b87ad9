"""The same backfill in one process tree and on Celery workers: wall time, tickets/s and what each step costs.

    python -m bench.cluster                                              # 4 days x 150 tickets, 2 workers
    python -m bench.cluster --days 1 --per-day 40000 --workers 1,2 --threads 1   # a large day, single-threaded workers

In-process, `nightshift run` executes every step itself on the home's DuckDB file. On the cluster the same command
only orchestrates: PostgreSQL (the Dagster instance and the DuckLake catalog), Redis and the workers are started on
loopback, each step goes to a worker, and the tables are a DuckLake. Every mode sees the same landing files, so the
ratios are the cost (or gain) of the cluster for the same work, measured in one run.

``--threads N`` limits each worker's native libraries (ONNX Runtime, DuckDB, BLAS, LanceDB) to N threads, so that on a
small machine the workers' parallel efficiency shows rather than each worker's own threads; the in-process night keeps
every core. Per mode it also prints the seconds spent inside steps (Dagster's STEP_START to its end, summed) and the
rest of the wall per step: what orchestrating a step costs. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from nightshift.deployment import loopback
from nightshift.ingest.samples import SampleSpec, write_days
from nightshift.knowledge.sample import write_sample
from nightshift.lib.threads import pinned

FIRST = date(2026, 3, 2)  # fixed, so two runs of the benchmark see the same tickets
NIGHTSHIFT = str(Path(sys.executable).with_name("nightshift"))


def backfill(home: Path, days: int, per_day: int, env: dict[str, str]) -> dict:
    """`nightshift run` over ``days`` days of sample tickets in ``home``: its wall seconds and its steps' seconds."""
    write_days(home / "landing", FIRST, days, SampleSpec(tickets_per_day=per_day))
    write_sample(home / "knowledge")
    last = FIRST + timedelta(days=days - 1)
    env = {**env, "NIGHTSHIFT_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run([NIGHTSHIFT, "run", "--start", FIRST.isoformat(), "--end", last.isoformat()],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"the backfill failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    steps = subprocess.run([sys.executable, "-m", "bench.cluster", "--steps-of", str(home)], env=env,
                           capture_output=True, text=True, check=True)
    return {"wall_s": wall, **json.loads(steps.stdout.strip().splitlines()[-1])}


def steps_of(home: Path) -> dict:
    """Seconds inside steps, and how many steps ran, in the instance of ``home`` (run in the backfill's environment)."""
    import dagster as dg

    from nightshift.app.instance import cli_instance
    from nightshift.lib.home import Home

    instance = cli_instance(Home(home))
    started, inside, count = {}, 0.0, 0
    ends = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    for record in instance.get_run_records():
        for entry in instance.all_logs(record.dagster_run.run_id, of_type={dg.DagsterEventType.STEP_START, *ends}):
            key = (record.dagster_run.run_id, entry.step_key)
            if entry.dagster_event_type == dg.DagsterEventType.STEP_START:
                started[key] = entry.timestamp
            elif key in started:
                inside, count = inside + entry.timestamp - started.pop(key), count + 1
    return {"steps": count, "inside_steps_s": inside}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--per-day", type=int, default=150, help="well-formed tickets per day")
    parser.add_argument("--workers", default="2", help="worker counts to measure, comma-separated (1,2)")
    parser.add_argument("--threads", type=int, help="native threads per worker (default: every core)")
    parser.add_argument("--steps-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps_of:
        print(json.dumps(steps_of(args.steps_of)))
        return
    tickets = args.days * args.per_day
    # Every process must see the same first partition, workers included (they start before the landing files exist).
    one_machine = {**loopback.one_machine(), "NIGHTSHIFT_FIRST_DAY": FIRST.isoformat()}
    worker_env = pinned(one_machine, args.threads) if args.threads else one_machine
    each = f", {args.threads} thread(s) per worker" if args.threads else ""
    print(f"a backfill of {args.days} days x {args.per_day} tickets; {os.cpu_count()} cores{each}", flush=True)
    with tempfile.TemporaryDirectory(prefix="nightshift-bench-cluster-") as tmp:
        root = Path(tmp)
        modes = {"in-process": backfill(root / "in-process", args.days, args.per_day, one_machine)}
        for count in (int(n) for n in args.workers.split(",")):
            names = [f"w{n}" for n in range(1, count + 1)]
            with loopback.cluster(root / f"cluster-{count}", names, worker_env) as cluster:
                mode = f"{count} Celery worker{'s' if count > 1 else ''}"
                modes[mode] = backfill(root / f"cluster-{count}" / "home", args.days, args.per_day, cluster.env)
            print(f"{mode}: {modes[mode]['wall_s']:.1f} s", flush=True)
    base = modes["in-process"]["wall_s"]
    print("\n| mode | wall s | tickets/s | wall / in-process | steps | s inside steps | rest of the wall per step |")
    print("|---|---|---|---|---|---|---|")
    for mode, m in modes.items():
        rest = (m["wall_s"] - m["inside_steps_s"]) / m["steps"] if m["steps"] else 0.0
        print(f"| {mode} | {m['wall_s']:.1f} | {tickets / m['wall_s']:.1f} | {m['wall_s'] / base:.2f} | {m['steps']} "
              f"| {m['inside_steps_s']:.1f} | {rest:.2f} |")
    print(json.dumps({"days": args.days, "tickets": tickets, "workers": args.workers, "threads": args.threads,
                      "cores": os.cpu_count(), **{mode: {k: round(v, 2) for k, v in m.items()} for mode, m in modes.items()}}))


if __name__ == "__main__":
    main()
