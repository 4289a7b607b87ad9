"""`nightshift dev` stops on SIGTERM, as a service manager sends it, and leaves no process of its own behind."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nightshift.app.cli import DEV_STOP_S


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (this test's own DAGSTER_HOME): the dev server and its children."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_sigterm_stops_the_ui_and_the_daemon_children_included(tmp_path):
    marker = str(tmp_path / "dagster-home-for-the-stop-test")
    env = {**os.environ, "NIGHTSHIFT_HOME": str(tmp_path / "home"), "DAGSTER_HOME": marker}
    port = free_port()
    with open(tmp_path / "dev.log", "w") as log:
        dev = subprocess.Popen([sys.executable, "-m", "nightshift.app.cli", "dev", "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
        try:
            for _ in range(240):  # the UI, the daemon and the code server take a while on two loaded cores
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                    break
                except OSError:
                    time.sleep(1)
            else:
                pytest.fail("nightshift dev never answered: " + (tmp_path / "dev.log").read_text()[-2000:])
            assert len(processes_with(marker)) >= 3  # nightshift, dg dev, and what dg dev started
            dev.send_signal(signal.SIGTERM)
            assert dev.wait(timeout=DEV_STOP_S + 30) == 0
            for _ in range(10):
                if not processes_with(marker):
                    break
                time.sleep(1)
            assert processes_with(marker) == []
        finally:
            for pid in processes_with(marker):
                os.kill(pid, signal.SIGKILL)
