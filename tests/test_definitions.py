from datetime import datetime, timezone

import dagster as dg

from nightshift.definitions import defs


def test_definitions_load_with_daily_partitioned_assets():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    chain = ["raw_tickets", "ticket_embeddings", "triage_model", "ticket_triage", "synthesis_batches", "ticket_responses", "daily_digest"]
    assert set(chain) <= keys
    for key in chain:
        partitions = graph.get(dg.AssetKey(key)).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition) and partitions.timezone == "UTC"
    assert graph.get(dg.AssetKey("ticket_embeddings")).parent_keys == {dg.AssetKey("raw_tickets")}


def test_nightly_schedule_targets_yesterday():
    schedule = defs.resolve_schedule_def("nightly")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-20"


def test_the_batch_sensor_runs_by_default_and_targets_the_collection():
    sensor = defs.resolve_sensor_def("batch_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "collect_job"
    collect = {k.to_user_string() for k in defs.resolve_job_def("collect_job").asset_layer.executable_asset_keys}
    assert collect == {"ticket_responses", "daily_digest", "daily_cost_and_quality"}
    nightly = {k.to_user_string() for k in defs.resolve_job_def("nightly_job").asset_layer.executable_asset_keys}
    assert "synthesis_batches" in nightly and not nightly & collect  # nothing waits on a batch inside a run
