"""Real servers for the tests that need one: PostgreSQL started on loopback, Debian's Chromium.

`.ci/run` installs both and sets NIGHTSHIFT_REQUIRE_SERVICES=1, so in CI a missing one fails the test; elsewhere the
test is skipped with the reason.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"


def unavailable(reason: str) -> None:
    if os.environ.get("NIGHTSHIFT_REQUIRE_SERVICES"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields the URL of an empty database."""
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
            run(f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "dagster")
            yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/dagster"
        finally:
            run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-m", "fast", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM
