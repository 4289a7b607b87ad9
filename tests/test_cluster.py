"""A backfill beyond one process tree: PostgreSQL (the Dagster instance and the DuckLake catalog), Redis, and two
Celery workers on loopback run four days through the whole chain, and end exactly where the same days end in-process."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from nightshift.deployment.broker import VISIBILITY_TIMEOUT
from nightshift.deployment.loopback import one_machine
from nightshift.ingest.samples import write_days
from nightshift.knowledge.sample import write_sample
from nightshift.orchestration.chunks import CHUNK_TICKETS
from nightshift.warehouse.database import Warehouse
from tests.conftest import SAMPLE_START
from tests.services import cluster

pytestmark = pytest.mark.slow

DAYS = 4
LAST = f"2026-11-0{DAYS}"
NIGHTSHIFT = str(Path(sys.executable).with_name("nightshift"))

# What must be identical, row for row: everything but timestamps, batch ids and file names, which differ by nature.
COMPARED = {
    "tickets": "SELECT * EXCLUDE (ingested_at, source_file) FROM tickets ORDER BY ticket_id",
    "tickets_quarantine": "SELECT day, source_line, reason FROM tickets_quarantine ORDER BY ALL",
    "ticket_triage": "SELECT ticket_id, day, category, confidence, route, reason, cache_ticket_id FROM ticket_triage ORDER BY ticket_id",
    "ticket_responses": "SELECT * EXCLUDE (batch_id, cache_entry_id, responded_at) FROM ticket_responses ORDER BY ticket_id",
    "llm_requests": "SELECT day, kind, route, model, mode, attempt, status, count(*) AS n, sum(input_tokens) AS input_tokens, "
                    "sum(output_tokens) AS output_tokens, round(sum(usd), 9) AS usd, count(superseded_at) AS superseded "
                    "FROM llm_requests GROUP BY ALL ORDER BY ALL",
    "check_results": "SELECT day, asset, check_name, passed, severity FROM check_results ORDER BY ALL",
    "daily_cost_and_quality": "SELECT day, tickets, route_cache, route_small_model, route_frontier, route_realtime, spent_usd, "
                              "baseline_usd, saving, answered, failed, pending, checks, checks_passed, agreement_small_model "
                              "FROM daily_cost_and_quality ORDER BY day",
}


def landing(home: Path) -> None:
    write_days(home / "landing", SAMPLE_START, DAYS)
    write_sample(home / "knowledge")


def backfill(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`nightshift run` over the four days, as a user runs it: each night, then its collection."""
    done = subprocess.run([NIGHTSHIFT, "run", "--start", SAMPLE_START.isoformat(), "--end", LAST], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def state(db: Warehouse) -> dict[str, list[dict]]:
    return {table: db.rows(sql) for table, sql in COMPARED.items()}


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> dict[str, list[dict]]:
    """The four days in one process tree, on a DuckDB file: what the cluster must reproduce."""
    root = tmp_path_factory.mktemp("in-process")
    landing(root / "home")
    backfill({**one_machine(), "NIGHTSHIFT_HOME": str(root / "home")})
    return state(Warehouse(root / "home" / "warehouse.duckdb"))


def lake(env: dict[str, str]) -> Warehouse:
    return Warehouse(env["NIGHTSHIFT_WAREHOUSE"], data_path=env["NIGHTSHIFT_LAKE_DATA"])


def assert_complete_and_identical(env: dict[str, str], expected: dict[str, list[dict]]) -> None:
    db = lake(env)
    got = state(db)
    for table in COMPARED:
        assert got[table] == expected[table], f"{table} differs from the in-process run"
    days = got["daily_cost_and_quality"]
    assert [str(d["day"]) for d in days] == [f"2026-11-0{n}" for n in range(1, DAYS + 1)]
    assert all(d["answered"] + d["failed"] == d["tickets"] and d["pending"] == 0 for d in days)
    for table, key in (("tickets", "ticket_id"), ("ticket_responses", "ticket_id"), ("llm_requests", "custom_id, attempt"),
                       ("check_results", "day, check_name")):
        (dupes,) = db.rows(f"SELECT count(*) - count(DISTINCT ({key})) AS n FROM {table}")[0].values()
        assert dupes == 0, f"{table} has {dupes} duplicate rows"
    with psycopg2.connect(env["DAGSTER_PG_URL"].replace("+psycopg2", "")) as con, con.cursor() as cur:
        cur.execute("SELECT pipeline_name, status, count(*) FROM runs GROUP BY 1, 2 ORDER BY 1, 2")
        runs = cur.fetchall()
    assert {status for _, status, _ in runs} == {"SUCCESS"}, runs
    assert dict((job, n) for job, _, n in runs)["nightly_job"] == DAYS


def step_workers(env: dict[str, str]) -> dict[str, set[str]]:
    """Which worker executed each step, from the event log: the engine event each worker writes as it starts a step."""
    with psycopg2.connect(env["DAGSTER_PG_URL"].replace("+psycopg2", "")) as con, con.cursor() as cur:
        cur.execute("SELECT step_key, event FROM event_logs WHERE dagster_event_type = 'ENGINE_EVENT' "
                    "AND event LIKE '%%in celery worker%%'")
        rows = cur.fetchall()
    by_worker: dict[str, set[str]] = {}
    for step, event in rows:
        entries = json.loads(event)["dagster_event"]["event_specific_data"]["metadata_entries"]
        worker = next(e["entry_data"]["text"] for e in entries if e["label"] == "Celery worker")
        by_worker.setdefault(worker.split("@")[0], set()).add(step)
    return by_worker


def test_a_backfill_on_two_workers_ends_as_it_does_in_one_process(tmp_path, in_process):
    # Chunks of 40 tickets: a day's embedding and cache reading are four steps each that the workers share, where the
    # in-process night made one chunk of each day.
    with cluster(tmp_path, ["w1", "w2"], {**one_machine(), CHUNK_TICKETS: "40"}) as night:
        env = night.env
        landing(tmp_path / "home")
        backfill(env)
        assert_complete_and_identical(env, in_process)
        by_worker = step_workers(env)
        # The CLI reads the lake as it reads the file.
        asked = subprocess.run([NIGHTSHIFT, "query", "SELECT count(*) AS n FROM ticket_responses", "--format", "json"],
                               env=env, capture_output=True, text=True, timeout=120)
        assert json.loads(asked.stdout) == [{"n": len(in_process["ticket_responses"])}], asked.stderr
    assert set(by_worker) == {"w1", "w2"}, by_worker
    # Every step of both jobs ran somewhere: ingest to submit, and collect to the day's report.
    ran = set().union(*by_worker.values())
    assert {"raw_tickets", "ticket_embeddings", "synthesis_batches", "ticket_responses", "daily_cost_and_quality",
            "cached_answers"} <= {step.split(".")[0] for step in ran}
    assert {f"{op}[chunk_{n}]" for op in ("ticket_embeddings.embed_chunk", "cached_answers.read_answers") for n in range(4)} <= ran


def pool_processes(worker: subprocess.Popen) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()]


def backfill_killing_at_tenth_step(env: dict[str, str], worker: subprocess.Popen, log: Path, whole: bool) -> str:
    """The backfill, while w1's 10th step (the first day's are behind it) is killed as soon as w1 has it: the process
    executing it, and with ``whole`` w1's main process too. A step takes at least half a second (it loads the run from
    the instance), so the kill lands inside it. Returns the killed step's task id."""
    killed: list[str] = []

    def kill() -> None:
        while not killed and worker.poll() is None:
            received = re.findall(r"Task execute_plan\[([0-9a-f-]+)\] received", log.read_text())
            if len(received) >= 10:
                for pid in [*pool_processes(worker), *([worker.pid] if whole else [])]:
                    os.kill(pid, signal.SIGKILL)
                killed.append(received[9])
            time.sleep(0.05)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    backfill(env)
    killer.join(timeout=5)
    assert killed, "the backfill ended before w1 took ten steps"
    return killed[0]


def test_a_worker_killed_mid_step_costs_nothing_but_a_rerun_of_the_step(tmp_path, in_process):
    with cluster(tmp_path, ["w1", "w2"], one_machine()) as night:
        landing(tmp_path / "home")
        log = tmp_path / "w1.log"
        killed = backfill_killing_at_tenth_step(night.env, night.workers["w1"], log, whole=False)
        text = log.read_text()
        # Celery saw the step's process die, and put its message back; the step ran again, to success, on a live process.
        assert "signal 9 (SIGKILL)" in text
        assert f"Task execute_plan[{killed}] succeeded" in text + (tmp_path / "w2.log").read_text()
        assert_complete_and_identical(night.env, in_process)


def test_a_worker_lost_with_its_machine_gives_its_step_back_after_the_visibility_timeout(tmp_path, in_process):
    # The whole worker dies (its main process and the process running its step, as when its machine goes): nobody is
    # left to put the step's message back, and Redis hands it to w2 once the visibility timeout has passed. Shortened
    # here from half an hour to 30 s; every step of these small days takes less, so none is handed out twice.
    with cluster(tmp_path, ["w1", "w2"], {**one_machine(), VISIBILITY_TIMEOUT: "30"}) as night:
        landing(tmp_path / "home")
        lost = backfill_killing_at_tenth_step(night.env, night.workers["w1"], tmp_path / "w1.log", whole=True)
        assert night.workers["w1"].wait(timeout=5) == -signal.SIGKILL
        # The step w1 had taken ran to success on w2.
        assert f"Task execute_plan[{lost}] succeeded" in (tmp_path / "w2.log").read_text()
        assert_complete_and_identical(night.env, in_process)
