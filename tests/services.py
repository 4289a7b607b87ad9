"""Real servers for the tests that need one: PostgreSQL, Redis, Celery workers and Arize Phoenix started on loopback,
Debian's Chromium.

`.ci/run` installs them and sets NIGHTSHIFT_REQUIRE_SERVICES=1, so in CI a missing one fails the test; elsewhere the
test is skipped with the reason.
"""

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
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
PHOENIX = Path(__file__).resolve().parents[1] / ".venv-viewer" / "bin" / "phoenix"


def unavailable(reason: str) -> None:
    if os.environ.get("NIGHTSHIFT_REQUIRE_SERVICES"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres(*more: str) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields the URL of an empty database `dagster` (and creates the
    databases named in ``more`` beside it)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("PostgreSQL server binaries not installed (Debian package postgresql)")
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


@contextmanager
def redis() -> Iterator[str]:
    """A Redis server on 127.0.0.1 that keeps nothing on disk; yields its URL."""
    server = shutil.which("redis-server")
    if not server:
        unavailable("redis-server not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen([str(server), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def workers(names: list[str], env: dict[str, str], logs: Path) -> Iterator[dict[str, subprocess.Popen]]:
    """`nightshift worker` processes, one per name, with ``env``; each logs to ``logs``/NAME.log. Yields them by name
    once each is ready for steps."""
    program = Path(sys.executable).with_name("nightshift")
    started: dict[str, subprocess.Popen] = {}
    try:
        for name in names:
            with open(logs / f"{name}.log", "w") as log:
                started[name] = subprocess.Popen([str(program), "worker", "--name", name], env={**env, "PYTHONUNBUFFERED": "1"},
                                                 stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        for name, process in started.items():
            while " ready." not in (logs / f"{name}.log").read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} did not start: {(logs / f'{name}.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield started
    finally:
        for process in started.values():
            process.terminate()
        for process in started.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM


@contextmanager
def phoenix() -> Iterator[str]:
    """Arize Phoenix on 127.0.0.1, on SQLite in a temporary directory: OTLP over HTTP and its UI and REST API on one port.
    Yields its base URL."""
    if not PHOENIX.exists():
        unavailable("the trace viewer is not installed (bash dev.sh viewer --install-only)")
    root, port = tempfile.mkdtemp(prefix="nightshift-phoenix-"), free_port()
    env = {**os.environ, "PHOENIX_WORKING_DIR": root, "PHOENIX_HOST": "127.0.0.1", "PHOENIX_PORT": str(port),
           "PHOENIX_GRPC_PORT": str(free_port()), "PHOENIX_TELEMETRY_ENABLED": "false"}
    with open(os.path.join(root, "server.log"), "w") as log:
        process = subprocess.Popen([str(PHOENIX), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/v1/projects", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Phoenix did not start: {Path(root, 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
