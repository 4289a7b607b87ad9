"""The same backfill in one process tree and on Celery workers: wall time and tickets/s side by side.

    python -m bench.cluster                      # 4 days x 150 tickets, 2 workers
    python -m bench.cluster --days 7 --per-day 1000 --workers 2

In-process, `nightshift run` executes every step itself on the home's DuckDB file. On the cluster the same command
only orchestrates: PostgreSQL (the Dagster instance and the DuckLake catalog), Redis and the workers are started on
loopback, each step goes to a worker, and the tables are a DuckLake. Both backfills see the same landing files, so the
ratio is the cost (or gain) of the cluster for the same work, measured in one run. The last line is JSON.
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

FIRST = date(2026, 3, 2)  # fixed, so two runs of the benchmark see the same tickets
NIGHTSHIFT = str(Path(sys.executable).with_name("nightshift"))


def backfill(home: Path, days: int, per_day: int, env: dict[str, str]) -> float:
    """Seconds `nightshift run` takes over ``days`` days of sample tickets in ``home``."""
    write_days(home / "landing", FIRST, days, SampleSpec(tickets_per_day=per_day))
    write_sample(home / "knowledge")
    last = FIRST + timedelta(days=days - 1)
    started = time.perf_counter()
    done = subprocess.run([NIGHTSHIFT, "run", "--start", FIRST.isoformat(), "--end", last.isoformat()],
                          env={**env, "NIGHTSHIFT_HOME": str(home)},
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the backfill failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--per-day", type=int, default=150, help="well-formed tickets per day")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tickets = args.days * args.per_day
    # Every process must see the same first partition, workers included (they start before the landing files exist).
    one_machine = {**loopback.one_machine(), "NIGHTSHIFT_FIRST_DAY": FIRST.isoformat()}
    print(f"a backfill of {args.days} days x {args.per_day} tickets; {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="nightshift-bench-cluster-") as tmp:
        root = Path(tmp)
        walls = {"in-process": backfill(root / "in-process", args.days, args.per_day, one_machine)}
        names = [f"w{n}" for n in range(1, args.workers + 1)]
        with loopback.cluster(root / "cluster", names, one_machine) as cluster:
            walls[f"{args.workers} Celery workers"] = backfill(root / "cluster" / "home", args.days, args.per_day, cluster.env)
    base = walls["in-process"]
    print("\n| mode | wall s | tickets/s | wall / in-process |\n|---|---|---|---|")
    for mode, wall in walls.items():
        print(f"| {mode} | {wall:.1f} | {tickets / wall:.1f} | {wall / base:.2f} |")
    print(json.dumps({"days": args.days, "tickets": tickets, "workers": args.workers, "cores": os.cpu_count(),
                      **{mode: round(wall, 2) for mode, wall in walls.items()}}))


if __name__ == "__main__":
    main()
