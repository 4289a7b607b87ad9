"""The retention job frees what the nights no longer need, and an old day can still be run again."""

import tempfile
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.app.runner import run_days
from nightshift.app.settings import resources_for
from nightshift.assets.maintenance import folder_bytes, retention
from nightshift.ingest.samples import write_days
from nightshift.lib.home import Home
from nightshift.llm.engine import LocalBatchEngine
from nightshift.llm.server import BatchServer
from nightshift.warehouse.database import Warehouse
from tests.conftest import SAMPLE_START
from tests.test_quality_loop import free_port


@pytest.mark.slow
def test_retention_frees_batch_files_models_and_old_versions_and_a_retained_day_reruns(tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    days = [SAMPLE_START, SAMPLE_START + timedelta(days=1)]
    write_days(home.landing, SAMPLE_START, len(days))
    engine_dir = Path(tempfile.mkdtemp())
    with BatchServer(LocalBatchEngine(engine_dir), port=free_port(), token="t").running() as server:
        for name, value in {"NIGHTSHIFT_LLM": "openai", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "t"}.items():
            monkeypatch.setenv(name, value)
        defs = build_definitions(home, "")
        run_days(defs, dg.DagsterInstance.ephemeral(), "nightly_job", days, collect=True)
        db = Warehouse(home.warehouse)
        before = db.rows("SELECT ticket_id, status, response FROM ticket_responses ORDER BY ticket_id")
        provider_files = folder_bytes(str(engine_dir / "files"))
        models = sorted(p.name for p in home.models.iterdir())

        result = dg.materialize([retention], resources=resources_for(home, ""),
                                run_config={"ops": {"retention": {"config": {"keep_days": 0}}}})
        freed = {k: v.value for k, v in result.get_asset_materialization_events()[0].materialization.metadata.items()}
        assert freed["batch_files_deleted"] > 0 and freed["batch_bytes_freed"] > 0
        assert folder_bytes(str(engine_dir / "files")) == 0 and freed["batch_bytes_freed"] <= provider_files  # (plus the metadata)
        assert freed["model_files_deleted"] == len(models) and not list(home.models.iterdir())
        assert freed["lancedb_bytes_freed"] > 0
        assert freed["bytes_freed"] == freed["batch_bytes_freed"] + freed["model_bytes_freed"] + freed["lancedb_bytes_freed"]
        assert db.rows("SELECT count(*) AS n FROM llm_batches WHERE files_deleted_at IS NULL")[0]["n"] == 0
        # Nothing is deleted twice: a second run finds nothing left to free of the batches.
        again = dg.materialize([retention], resources=resources_for(home, ""),
                               run_config={"ops": {"retention": {"config": {"keep_days": 0}}}})
        assert again.get_asset_materialization_events()[0].materialization.metadata["batch_files_deleted"].value == 0

        # The first day again: its model is retrained, nothing is asked twice, and the answers are the same.
        sent = db.rows("SELECT count(*) AS n FROM llm_requests")[0]["n"]
        run_days(defs, dg.DagsterInstance.ephemeral(), "nightly_job", days[:1], collect=True)
        assert db.rows("SELECT count(*) AS n FROM llm_requests")[0]["n"] == sent
        assert db.rows("SELECT ticket_id, status, response FROM ticket_responses ORDER BY ticket_id") == before
