import tomllib
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml

from nightshift.app.instance import CODE_LOCATION, write_workspace
from nightshift.definitions import defs
from nightshift.orchestration.schedules import nightly_schedule_at
from nightshift.resources.llm import PROVIDER_RETRY


def test_definitions_load_with_daily_partitioned_assets():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    chain = ["raw_tickets", "ticket_embeddings", "triage_model", "ticket_triage", "synthesis_batches", "ticket_responses", "daily_digest"]
    assert set(chain) <= keys
    for key in chain:
        partitions = graph.get(dg.AssetKey(key)).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition) and partitions.timezone == "UTC"
    assert graph.get(dg.AssetKey("ticket_embeddings")).parent_keys == {dg.AssetKey("raw_tickets")}


def test_nightly_schedule_runs_by_default_and_targets_yesterday():
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC" and schedule.job_name == "nightly_job"
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-20"


def test_the_nightly_hour_is_configurable_and_checked():
    schedule = nightly_schedule_at("05:30")
    assert schedule.cron_schedule == "30 5 * * *"
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 1, 5, 30, tzinfo=UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-02-28"
    for wrong in ("25:00", "2am", "02:60"):
        with pytest.raises(ValueError, match="HH:MM in UTC"):
            nightly_schedule_at(wrong)


def test_provider_facing_assets_retry_with_backoff_and_checks_gate_what_must_not_flow():
    graph = defs.resolve_asset_graph()
    for key in ("synthesis_batches", "ticket_responses"):
        assert graph.get(dg.AssetKey(key)).assets_def.op.retry_policy == PROVIDER_RETRY
    assert PROVIDER_RETRY.backoff == dg.Backoff.EXPONENTIAL
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {"day_projected_within_budget", "responses_match_schema", "tickets_expectations",
            "triage_expectations", "responses_expectations", "embeddings_match_tickets"} <= blocking
    # Personal data in an answer holds back that answer from the cache (its admission), not the whole day.
    assert "responses_carry_no_pii" not in blocking
    assert "category_mix_drift" not in blocking and "needs_human_share" not in blocking


def test_the_batch_sensor_runs_by_default_and_targets_the_collection():
    sensor = defs.resolve_sensor_def("batch_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "collect_job"
    # The UI shows what it does; so do the schedules and every check.
    assert sensor.description and all(schedule.description for schedule in defs.schedules)
    graph = defs.resolve_asset_graph()
    assert all(graph.get_check_spec(key).description for key in graph.asset_check_keys)
    collect = {k.to_user_string() for k in defs.resolve_job_def("collect_job").asset_layer.executable_asset_keys}
    assert collect == {"ticket_responses", "answer_quality", "cached_answers", "daily_digest", "daily_cost_and_quality"}
    nightly = {k.to_user_string() for k in defs.resolve_job_def("nightly_job").asset_layer.executable_asset_keys}
    assert "synthesis_batches" in nightly and not nightly & collect  # nothing waits on a batch inside a run


def test_partitions_start_at_the_first_landing_day_unless_configured(tmp_path, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from nightshift.orchestration.partitions import first_day

    monkeypatch.delenv("NIGHTSHIFT_FIRST_DAY")
    landing = tmp_path / "landing"
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert first_day(landing) == yesterday  # nothing landed yet: a new deployment's first night
    for name in ("2026-11-03", "2026-10-30", "notes", "2026-13-01"):
        (landing / name).mkdir(parents=True)
    assert first_day(landing) == "2026-10-30"
    monkeypatch.setenv("NIGHTSHIFT_FIRST_DAY", "2020-01-01")
    assert first_day(landing) == "2020-01-01"


def test_nightshift_dev_and_dg_dev_load_the_same_code_location(tmp_path):
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    assert project["code_location_name"] == CODE_LOCATION
    (entry,) = yaml.safe_load(write_workspace(tmp_path).read_text())["load_from"]
    assert entry["python_module"]["location_name"] == CODE_LOCATION
    assert entry["python_module"]["module_name"] == project["code_location_target_module"] == "nightshift.definitions"
