"""bench.night end to end at toy size: it must keep running as the pipeline changes."""

import json
import subprocess
import sys

import duckdb
import pytest


@pytest.mark.slow
def test_the_night_benchmark_runs_a_night_with_and_without_history_and_ends_with_json(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bench.night", "--tickets", "40", "--history-days", "3", "--keep", str(tmp_path / "h")],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tickets"] == 40 and result["history_days"] == 3 and result["wall_s"] > 0
    assert result["history_slowdown"] > 0 and result["peak_rss_mb"] > 0
    # A chunked asset's ops are steps of their own (asset.op), their chunks summed.
    assert {"raw_tickets", "ticket_embeddings.embed_chunk", "ticket_embeddings.store_embeddings", "triage_model",
            "ticket_triage", "ticket_responses", "cached_answers.read_answers"} <= set(result["steps"])
    with duckdb.connect(str(tmp_path / "h" / "warehouse.duckdb"), read_only=True) as con:
        days = con.execute("SELECT count(DISTINCT day), count(*) FROM tickets").fetchone()
    assert days == (4, 4 * 40)  # three days of history (one real, two copied) and the night
