import subprocess
import sys
import time

import duckdb
import pytest

from nightshift.resources.warehouse import DuckDBWarehouse, open_database

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def hold_lock(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_reader_waits_for_another_process_writer(tmp_path):
    path = tmp_path / "w.duckdb"
    DuckDBWarehouse(path=str(path)).query("SELECT 1")  # create the file and tables
    writer = hold_lock(path, 1.5)
    started = time.monotonic()
    rows = DuckDBWarehouse(path=str(path)).query("SELECT count(*) AS n FROM tickets")
    assert rows["n"][0].as_py() == 0
    assert time.monotonic() - started > 0.5  # it really waited for the lock
    writer.wait()


def test_waiting_is_bounded(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    writer = hold_lock(path, 5)
    with pytest.raises(duckdb.IOException, match="lock"):
        open_database(str(path), read_only=True, wait_s=0.3)
    writer.kill()
