"""A cluster on one machine, for the tests and the cluster benchmark: PostgreSQL, Redis and `nightshift worker`
processes, each started on 127.0.0.1 and stopped afterwards, keeping nothing.

A server that is not installed raises Unavailable with the Debian package to install.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


class Unavailable(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres(*more: str) -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields the URL of an empty database `dagster` (and creates the databases named
    in ``more`` beside it)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise Unavailable("PostgreSQL server binaries not installed (Debian package postgresql)")
    bin_dir = os.path.dirname(found[-1])
    # PostgreSQL refuses to run as root: run it as the package's postgres user, in a directory that user owns.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = tempfile.mkdtemp(prefix="nightshift-pg-")
    data, port = os.path.join(root, "data"), free_port()
    if as_user:
        shutil.chown(root, "postgres")
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(root, "server.log"), "start",
            "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root}")
        try:
            for name in ("dagster", *more):
                run(f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name)
            yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/dagster"
        finally:
            run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-m", "fast", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def wait_until(ready, process: subprocess.Popen, what: str, timeout_s: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start" + (f": {log.read_text()[-2000:]}" if log else ""))
        time.sleep(0.1)


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def redis() -> Iterator[str]:
    """A Redis server that keeps nothing on disk; yields its URL."""
    server = shutil.which("redis-server")
    if not server:
        raise Unavailable("redis-server not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: accepts(port), process, "redis-server", 30)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def workers(names: list[str], env: dict[str, str], logs: Path) -> Iterator[dict[str, subprocess.Popen]]:
    """`nightshift worker` processes, one per name, with ``env``, each logging to ``logs``/NAME.log; yields them by
    name once each is ready for steps. They start at once, as a deployment's do, racing to create the Dagster
    instance's tables in a new database.
    """
    program = str(Path(sys.executable).with_name("nightshift"))
    started: dict[str, subprocess.Popen] = {}
    try:
        for name in names:
            with (logs / f"{name}.log").open("w") as out:
                started[name] = subprocess.Popen([program, "worker", "--name", name], env={**env, "PYTHONUNBUFFERED": "1"},
                                                 stdout=out, stderr=subprocess.STDOUT)
        for name, process in started.items():
            log = logs / f"{name}.log"
            wait_until(lambda: " ready." in log.read_text(), process, f"worker {name}", 120, log)  # noqa: B023
        yield started
    finally:
        for process in started.values():
            process.terminate()
        for process in started.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


# The settings that place a night on a cluster; without them, it runs in one process tree on the home's own files.
CLUSTER_SETTINGS = ("NIGHTSHIFT_CELERY", "NIGHTSHIFT_WAREHOUSE", "NIGHTSHIFT_LAKE", "DAGSTER_PG_URL", "DAGSTER_HOME")


def one_machine() -> dict[str, str]:
    """This process's environment without any cluster setting (each CLI process composes its instance in its home)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(CLUSTER_SETTINGS)}


def lake_catalog(dagster_url: str, database: str = "lake") -> str:
    """The DuckLake catalog in ``database`` of the PostgreSQL server that ``postgres()`` started."""
    port = dagster_url.rsplit(":", 1)[1].split("/")[0]
    return f"ducklake:postgres:dbname={database} host=127.0.0.1 port={port} user=postgres"


@dataclass
class Cluster:
    env: dict[str, str]  # what every process of the night shares: the orchestrator's and each worker's environment
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)


@contextmanager
def cluster(root: Path, names: list[str], base_env: dict[str, str]) -> Iterator[Cluster]:
    """PostgreSQL (the Dagster instance and the DuckLake catalog), Redis, and a worker per name, sharing the home
    ``root``/home and the lake's data files under ``root``/lake-data."""
    root.mkdir(parents=True, exist_ok=True)
    with postgres("lake") as dagster_url, redis() as broker:
        env = {**base_env, "NIGHTSHIFT_HOME": str(root / "home"), "NIGHTSHIFT_CELERY_BROKER": broker,
               "NIGHTSHIFT_WAREHOUSE": lake_catalog(dagster_url),
               "NIGHTSHIFT_LAKE_DATA": str(root / "lake-data"), "DAGSTER_PG_URL": dagster_url}
        env.pop("DAGSTER_HOME", None)  # each process composes the instance in the shared home, as the CLI does
        with workers(names, env, root) as started:
            yield Cluster(env, started)
