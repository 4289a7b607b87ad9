"""Real servers for the tests that need one: PostgreSQL, Redis, Celery workers and Arize Phoenix started on loopback,
Debian's Chromium.

`.ci/run` installs them and sets NIGHTSHIFT_REQUIRE_SERVICES=1, so in CI a missing one fails the test; elsewhere the
test is skipped with the reason.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn, TypeVar

import httpx
import pytest

from nightshift.deployment import loopback
from nightshift.deployment.loopback import Unavailable, free_port

CHROMIUM = "/usr/bin/chromium"
PHOENIX = Path(__file__).resolve().parents[1] / ".venv-viewer" / "bin" / "phoenix"

T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("NIGHTSHIFT_REQUIRE_SERVICES"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


@contextmanager
def available(server: AbstractContextManager[T]) -> Iterator[T]:
    """A server of nightshift.deployment.loopback, or the test skipped (failed in CI) when it is not installed."""
    with ExitStack() as stack:
        try:
            entered = stack.enter_context(server)
        except Unavailable as exc:
            unavailable(str(exc))
        yield entered


def postgres(*more: str) -> AbstractContextManager[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields the URL of an empty database `dagster`."""
    return available(loopback.postgres(*more))


def cluster(root: Path, names: list[str], env: dict[str, str]) -> AbstractContextManager[loopback.Cluster]:
    """PostgreSQL, Redis and a `nightshift worker` per name, on 127.0.0.1."""
    return available(loopback.cluster(root, names, env))


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


MOTO = Path(__file__).resolve().parents[1] / ".venv-s3" / "bin" / "moto_server"


@contextmanager
def s3(bucket: str) -> Iterator[dict[str, str]]:
    """An S3 server (moto) on 127.0.0.1 with an empty ``bucket``; yields the AWS_* variables that reach it."""
    if not MOTO.exists():
        unavailable("the S3 server is not installed (bash dev.sh s3 --install-only)")
    port = free_port()
    process = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        loopback.wait_until(lambda: loopback.accepts(port), process, "moto_server", 60)
        httpx.put(f"{url}/{bucket}").raise_for_status()  # moto takes an unsigned CreateBucket
        yield {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def s3_keys(env: dict[str, str], bucket: str, prefix: str) -> list[str]:
    """The keys under ``prefix`` in ``bucket`` (ListObjectsV2, unsigned: moto answers it)."""
    listing = httpx.get(f"{env['AWS_ENDPOINT_URL']}/{bucket}", params={"list-type": "2", "prefix": prefix}).text
    return re.findall(r"<Key>([^<]+)</Key>", listing)
