"""Shared storage as object storage: a night whose vectors (LanceDB) and warehouse files (a DuckLake's Parquet) live in an
S3 bucket, served on loopback by moto, with the lake's catalog in PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nightshift.deployment.loopback import lake_catalog
from nightshift.ingest.samples import write_days
from nightshift.knowledge.sample import write_sample
from nightshift.warehouse.database import Warehouse
from tests.conftest import SAMPLE_START
from tests.services import postgres, s3, s3_keys

pytestmark = pytest.mark.slow

BUCKET = "nightshift"


def test_two_nights_keep_vectors_and_tables_in_a_bucket(tmp_path, monkeypatch):
    home = tmp_path / "home"
    write_days(home / "landing", SAMPLE_START, 2)
    write_sample(home / "knowledge")
    with postgres("lake") as url, s3(BUCKET) as aws:
        lake = {"NIGHTSHIFT_WAREHOUSE": lake_catalog(url),
                "NIGHTSHIFT_LAKE_DATA": f"s3://{BUCKET}/lake", "NIGHTSHIFT_LANCEDB_URI": f"s3://{BUCKET}/lancedb"}
        env = {**{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}, **aws, **lake, "NIGHTSHIFT_HOME": str(home)}
        done = subprocess.run([str(Path(sys.executable).with_name("nightshift")), "run", "--start", "2026-11-01", "--end", "2026-11-02"],
                              env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

        for key, value in aws.items():
            monkeypatch.setenv(key, value)
        db = Warehouse(lake["NIGHTSHIFT_WAREHOUSE"], data_path=lake["NIGHTSHIFT_LAKE_DATA"])
        days = db.rows("SELECT day, tickets, answered, route_cache FROM daily_cost_and_quality ORDER BY day")
        assert [str(d["day"]) for d in days] == ["2026-11-01", "2026-11-02"]
        assert all(d["answered"] == d["tickets"] > 0 for d in days)
        # The second night found the first night's answers in the cache, and every ticket's passages were found by the
        # hybrid search (vector and full text) over the help centre, all read from the bucket.
        assert days[1]["route_cache"] > 0
        assert db.rows("SELECT count(DISTINCT ticket_id) AS n FROM ticket_context")[0]["n"] > 0
        tables = {key.split("/")[1] for key in s3_keys(aws, BUCKET, "lancedb/")}
        assert {"ticket_embeddings.lance", "answer_cache.lance", "kb_chunks.lance"} <= tables, tables
        assert any(key.endswith(".parquet") for key in s3_keys(aws, BUCKET, "lake/"))
    # Nothing of either went to the home's own folders.
    assert not (home / "lancedb").exists() and not (home / "lake").exists()
