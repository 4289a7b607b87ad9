from datetime import datetime, timezone

import dagster as dg

from nightshift.definitions import defs


def test_definitions_load_with_daily_partitioned_assets():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_tickets", "ticket_embeddings"} <= keys
    for key in ("raw_tickets", "ticket_embeddings"):
        partitions = graph.get(dg.AssetKey(key)).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition) and partitions.timezone == "UTC"
    assert graph.get(dg.AssetKey("ticket_embeddings")).parent_keys == {dg.AssetKey("raw_tickets")}


def test_nightly_schedule_targets_yesterday():
    schedule = defs.resolve_schedule_def("nightly")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-20"
