"""One day's whole pipeline with a real PostgreSQL server as the Dagster instance storage."""

import multiprocessing
import os
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from typer.testing import CliRunner

from nightshift.app.cli import app
from nightshift.app.instance import cli_instance, instance_yaml
from nightshift.lib.home import Home
from tests.services import postgres

# A real PostgreSQL server.
pytestmark = pytest.mark.slow


def test_a_day_runs_with_runs_events_and_checks_stored_in_postgres(sample_home, monkeypatch):
    with postgres() as url:
        monkeypatch.setenv("DAGSTER_PG_URL", url.replace("+psycopg2", ""))
        with pytest.raises(ValueError, match="must start with postgresql"):
            instance_yaml()
        monkeypatch.delenv("DAGSTER_HOME")  # nightshift composes the instance in its home, from dagster.yaml
        monkeypatch.setenv("DAGSTER_PG_URL", url)
        result = CliRunner().invoke(app, ["run", "--start", "2026-11-01"], catch_exceptions=False)
        assert result.exit_code == 0, result.output

        instance = dg.DagsterInstance.get()
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert "postgres_url" in (sample_home.dagster / "dagster.yaml").read_text() and url not in (sample_home.dagster / "dagster.yaml").read_text()
        with psycopg2.connect(url.replace("+psycopg2", "")) as con, con.cursor() as cur:
            cur.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
            # The night, its collection, and the collection of the judge's verdicts.
            assert cur.fetchall() == [("nightly_job", "SUCCESS"), ("collect_job", "SUCCESS"), ("collect_job", "SUCCESS")]
            cur.execute("SELECT count(DISTINCT check_name) FROM asset_check_executions WHERE partition = '2026-11-01'")
            assert cur.fetchone()[0] >= 12
        instance.dispose()


def open_instance(root: str, url: str, attempts: int, ready) -> None:
    os.environ.pop("DAGSTER_HOME", None)
    os.environ["DAGSTER_PG_URL"] = url
    ready.wait()  # all imported: now they race
    cli_instance(Home(Path(root)), attempts).dispose()


def test_processes_started_at_once_on_a_new_database_all_get_the_instance(tmp_path, monkeypatch):
    # Workers and the CLI of a new deployment start together, and each would create Dagster's tables.
    with postgres() as url:
        context = multiprocessing.get_context("spawn")
        ready = context.Barrier(8)
        starting = [context.Process(target=open_instance, args=(str(tmp_path / "home"), url, 5, ready)) for _ in range(8)]
        for process in starting:
            process.start()
        for process in starting:
            process.join(timeout=120)
        assert [p.exitcode for p in starting] == [0] * 8
