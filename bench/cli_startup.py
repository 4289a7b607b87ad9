"""How long the quick commands take to start, against a baseline commit, measured in the same run.

    python -m bench.cli_startup --baseline REF [--home DIR] [--repeat 5]

For `--help`, `query`, `report` and `trace` (on a home a night has written: --home, else $NIGHTSHIFT_HOME, else a
one-day demo made in a temporary folder): the seconds spent importing (`python -X importtime`, top-level modules
summed) and the wall time (median of --repeat runs), for this checkout and for REF (checked out into a temporary git
worktree and run with the same environment), and their ratio. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")  # a module imported by the command itself


def commands(home: Path) -> dict[str, list[str]]:
    env = {**os.environ, "NIGHTSHIFT_HOME": str(home)}
    ticket = subprocess.run([sys.executable, "-m", "nightshift.app.cli", "query", "SELECT min(ticket_id) FROM ticket_responses",
                             "--format", "csv"], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()[-1]
    return {"--help": ["--help"], "query": ["query", "SELECT count(*) FROM tickets"], "report": ["report", "--days", "3650"],
            "trace": ["trace", ticket]}


def measure(source: Path, args: list[str], home: Path, repeat: int) -> tuple[float, float]:
    """(seconds of imports, median wall seconds) of `nightshift ARGS` run from ``source``."""
    env = {**os.environ, "NIGHTSHIFT_HOME": str(home), "PYTHONPATH": str(source)}
    command = [sys.executable, "-X", "importtime", "-m", "nightshift.app.cli", *args]
    walls, imports = [], 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=source, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if done.returncode not in (0, 2):
            raise SystemExit(f"{' '.join(args)} failed in {source}: {done.stderr[-2000:]}")
        imports = sum(int(m.group(1)) for line in done.stderr.splitlines() if (m := TOP_LEVEL.match(line))) / 1e6
    return imports, statistics.median(walls)


def demo_home(folder: Path) -> Path:
    home = folder / "home"
    env = {**os.environ, "NIGHTSHIFT_HOME": str(home), "DAGSTER_HOME": str(folder / "dagster")}
    (folder / "dagster").mkdir()
    subprocess.run([sys.executable, "-m", "nightshift.app.cli", "demo", "--days", "1"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="A commit to compare with, e.g. the one before a change.")
    parser.add_argument("--home", type=Path, default=Path(os.environ["NIGHTSHIFT_HOME"]) if os.environ.get("NIGHTSHIFT_HOME") else None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or demo_home(Path(tmp))
        baseline = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=ROOT, check=True, capture_output=True)
        try:
            results = {}
            for name, argv in commands(home).items():
                before, now = measure(baseline, argv, home, args.repeat), measure(ROOT, argv, home, args.repeat)
                results[name] = {"baseline_imports_s": round(before[0], 3), "imports_s": round(now[0], 3),
                                 "baseline_wall_s": round(before[1], 3), "wall_s": round(now[1], 3),
                                 "wall_ratio": round(before[1] / now[1], 2)}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False, capture_output=True)
    print(f"{'command':<8} {'imports (baseline)':>20} {'imports':>8} {'wall (baseline)':>16} {'wall':>6} {'faster':>7}")
    for name, r in results.items():
        print(f"{name:<8} {r['baseline_imports_s']:>19.2f}s {r['imports_s']:>7.2f}s {r['baseline_wall_s']:>15.2f}s "
              f"{r['wall_s']:>5.2f}s {r['wall_ratio']:>6.1f}x")
    print(json.dumps({"baseline": args.baseline, **results}))


if __name__ == "__main__":
    main()
