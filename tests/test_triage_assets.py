"""The nightly job over the sample days: triage_model and ticket_triage against temporary stores."""

import dagster as dg
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.triage.artifact import ModelStore
from nightshift.triage.routing import ROUTES
from tests.conftest import SAMPLE_DAYS

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_day(defs, day):
    result = defs.resolve_job_def("nightly_job").execute_in_process(partition_key=day, run_config=QUIET)
    return {e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


@pytest.mark.slow
def test_nightly_job_triages_every_ticket_with_a_reason(sample_home):
    defs = build_definitions(sample_home, "")
    for day in SAMPLE_DAYS:
        meta = run_day(defs, day)
    model, triage = meta["triage_model"], meta["ticket_triage"]
    assert model["mode"] == "supervised" and model["trained"] == 1 and model["labelled"] == 450
    assert 0.8 <= model["cache_threshold"] <= 1.0 and model["cache_false_hit_rate"] <= 0.01
    assert triage["tickets"] == 150 == sum(triage[f"route_{r}"] for r in ROUTES)
    assert triage["route_realtime"] == 3  # the sample's urgent outages and fraud
    assert 0 < triage["expected_usd"] < triage["frontier_sync_usd"]
    warehouse = defs.resources["warehouse"]
    rows = warehouse.db.query("SELECT * FROM ticket_triage WHERE day = DATE '2026-11-03'").to_pylist()
    assert len(rows) == 150 and all(r["reason"] and r["route"] in ROUTES for r in rows)
    assert all(0 < r["confidence"] <= 1 for r in rows)
    assert {r["model_version"] for r in rows} == {model["version"]}

    again = run_day(defs, "2026-11-03")
    assert again["triage_model"]["trained"] == 0  # same history, same version, no retraining
    assert warehouse.db.query("SELECT count(*) AS n FROM ticket_triage")["n"][0].as_py() == 450


@pytest.mark.slow
def test_each_day_is_triaged_by_the_model_of_its_own_history(sample_home):
    defs = build_definitions(sample_home, "")
    first = run_day(defs, "2026-11-01")["triage_model"]
    second = run_day(defs, "2026-11-02")["triage_model"]
    assert first["version"] != second["version"] and (first["labelled"], second["labelled"]) == (150, 300)
    store = ModelStore(sample_home.models)
    assert store.for_day("2026-11-01").version == first["version"]


def test_without_labels_the_model_is_zero_shot_and_says_so(home):
    folder = home.landing / "2026-11-01"
    folder.mkdir(parents=True)
    (folder / "t.csv").write_text("text\nMy parcel never arrived\nI was charged twice\nThe app crashes on start\n")
    defs = build_definitions(home, "")
    meta = run_day(defs, "2026-11-01")
    assert meta["triage_model"]["mode"] == "zero_shot"
    rows = defs.resources["warehouse"].db.query("SELECT category, route FROM ticket_triage ORDER BY ticket_id").to_pylist()
    assert len(rows) == 3 and all(r["route"] != "cache" for r in rows)


def test_ticket_triage_without_a_model_fails_clearly(sample_home):
    defs = build_definitions(sample_home, "")
    result = dg.materialize(
        [a for a in defs.assets if a.key.to_user_string() in ("raw_tickets", "ticket_embeddings", "ticket_triage")],
        partition_key="2026-11-01", resources=defs.resources, raise_on_error=False,
    )
    assert not result.success
    assert "materialize triage_model" in str(result.get_step_failure_events()[0].event_specific_data.error.message)
