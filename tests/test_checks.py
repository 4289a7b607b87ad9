"""Each asset check passes on a clean day and fails on purpose-built bad data; blocking checks stop what follows."""

import json
import shutil
import time
from datetime import date

import dagster as dg
import pandas as pd
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.app.settings import resources_for
from nightshift.assets.cache import cached_answers
from nightshift.assets.digest import daily_digest
from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.assets.responses import ticket_responses
from nightshift.assets.synthesis import synthesis_batches
from nightshift.assets.triage import ticket_triage, triage_model
from nightshift.checks.answers import needs_human_share
from nightshift.checks.budget import day_spent_within_budget
from nightshift.checks.drift import category_mix_drift
from nightshift.checks.gates import responses_gate, triage_gate
from nightshift.checks.privacy import requests_carry_no_pii
from nightshift.checks.suites import digest_expectations
from nightshift.ingest.samples import write_days
from nightshift.lib.home import Home
from nightshift.llm.engine import TERMINAL
from nightshift.llm.ledger import BatchLedger
from nightshift.quality import expectations
from nightshift.resources.answer_cache import TABLE as CACHE_TABLE
from nightshift.resources.llm import LLMProvider
from tests.conftest import SAMPLE_START

DAY = SAMPLE_START.isoformat()
TRIAGE = [raw_tickets, ticket_embeddings, triage_model, ticket_triage]
ANSWERS_ARE_GATED = [ticket_responses, responses_gate, cached_answers]


def finish_batches(res) -> None:
    """What batch_sensor does between the two jobs: poll until every batch is terminal."""
    ledger = BatchLedger(res["warehouse"].db, res["llm"].providers(), res["prices"].table())
    deadline = time.monotonic() + 120
    while any(ledger.poll(b).status not in TERMINAL for b in ledger.open_batches()):
        assert time.monotonic() < deadline


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Home:
    """Two sample days through the nightly and the collection job, every check included; built once, copied per test."""
    home = Home(tmp_path_factory.mktemp("collected") / "home")
    write_days(home.landing, SAMPLE_START, 2)
    defs = build_definitions(home, "")
    for day in (DAY, "2026-11-02"):
        assert defs.resolve_job_def("nightly_job").execute_in_process(partition_key=day).success
        for _ in ("the answers", "the judge's verdicts"):
            finish_batches(resources_for(home, ""))
            assert defs.resolve_job_def("collect_job").execute_in_process(partition_key=day).success
    return home


@pytest.fixture
def res(collected, tmp_path) -> dict:
    shutil.copytree(collected.root, tmp_path / "home")
    return resources_for(Home(tmp_path / "home"), "")


def run(items, res, day=DAY) -> dg.ExecuteInProcessResult:
    return dg.materialize(items, partition_key=day, resources=res, raise_on_error=False)


def verdict(result, name) -> tuple[bool, dict]:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation.passed, {k: v.value for k, v in evaluation.metadata.items()}


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def sql(res, statement, *params):
    return res["warehouse"].db.query(statement, list(params) or None).to_pylist()


@pytest.mark.slow
def test_every_check_passed_on_the_clean_days_and_the_report_counts_them(res):
    results = sql(res, "SELECT check_name, passed, severity, metadata FROM check_results WHERE day = ? ORDER BY check_name",
                  date(2026, 11, 2))
    assert len(results) == 15 and all(r["passed"] for r in results), results
    # Two nights of judged small-model answers (10, then 5: the sample is sized), all agreeing, cannot vouch for 0.90 yet
    # (35 of 35 could), nor say it is missed: undecided, which passes, with how many more it would take.
    (quality,) = [r for r in results if r["check_name"] == "cheap_answers_meet_quality_target"]
    figures = json.loads(quality["metadata"])
    judged = sql(res, "SELECT count(*) AS n FROM answer_quality WHERE route = 'small_model' AND status = 'judged'")[0]["n"]
    assert quality["passed"] and figures["verdict_small_model"] == "undecided" and figures["sampled_small_model"] == judged >= 10
    assert figures["agreement_small_model"] == 1.0 and 0.65 < figures["lower_bound_small_model"] < 0.9
    assert figures["still_needed_small_model"] == 35 - judged and figures["below_target"] == "none"
    row = sql(res, "SELECT checks, checks_passed, check_pass_rate FROM daily_cost_and_quality WHERE day = ?", date(2026, 11, 2))[0]
    assert row["checks"] == 15 and row["checks_passed"] == 15


def answer_with(res, ticket_id: str, **changes) -> None:
    """Rewrite what the model answered for one ticket, as a misbehaving model would have."""
    (row,) = sql(res, "SELECT answer FROM llm_requests WHERE custom_id = ? AND status = 'ok' AND superseded_at IS NULL", ticket_id)
    with res["warehouse"].db.connect() as con:
        con.execute("UPDATE llm_requests SET answer = ? WHERE custom_id = ? AND status = 'ok'",
                    [json.dumps({**json.loads(row["answer"]), **changes}), ticket_id])


def a_model_answered_ticket(res) -> str:
    return sql(res, "SELECT ticket_id FROM ticket_responses WHERE day = ? AND source = 'batch' ORDER BY ticket_id LIMIT 1",
               date.fromisoformat(DAY))[0]["ticket_id"]


@pytest.mark.slow
def test_clean_answers_pass_the_gate_and_reach_the_cache(res):
    result = run(ANSWERS_ARE_GATED, res)
    assert verdict(result, "responses_match_schema")[0] and verdict(result, "responses_carry_no_pii")[0]
    assert "cached_answers" in materialized(result)


@pytest.mark.slow
def test_a_draft_reply_with_a_phone_number_warns_and_that_answer_alone_stays_out_of_the_cache(res):
    ticket = a_model_answered_ticket(res)
    answer_with(res, ticket, draft_reply="Call me on +44 20 7946 0958 and I will sort it out.")
    result = run(ANSWERS_ARE_GATED, res)
    passed, figures = verdict(result, "responses_carry_no_pii")
    assert not passed and figures["with_pii"] == 1 and figures["found_phone"] == 1 and figures["examples"] == ticket
    # The answer still reaches its own customer; the rest of the day's answers still reach the cache.
    assert "cached_answers" in materialized(result) and result.success
    failed = sql(res, "SELECT passed, severity FROM check_results WHERE day = ? AND check_name = 'responses_carry_no_pii'",
                 date.fromisoformat(DAY))
    assert failed == [{"passed": False, "severity": "WARN"}]
    refused = sql(res, "SELECT admitted, reasons FROM cache_admissions WHERE ticket_id = ?", ticket)
    assert refused[0]["admitted"] is False and "personal_data: PHONE found" in refused[0]["reasons"]
    cached = sql(res, "SELECT count(*) AS n FROM cache_admissions WHERE admitted")[0]["n"]
    assert cached > 0


@pytest.mark.slow
def test_an_answer_outside_the_schema_fails_schema_and_suite_and_never_reaches_the_cache(res):
    ticket = a_model_answered_ticket(res)
    answer_with(res, ticket, sentiment="furious")
    result = run(ANSWERS_ARE_GATED, res)
    passed, figures = verdict(result, "responses_match_schema")
    assert not passed and figures["invalid"] == 1 and "sentiment" in figures["examples"]
    passed, figures = verdict(result, "responses_expectations")
    assert not passed and "furious" in figures["failures"] and figures["success_share"] < 1
    assert "cached_answers" not in materialized(result)


def with_budget(res, usd: float) -> dict:
    return {**res, "llm": LLMProvider(provider="local", engine_dir=res["llm"].engine_dir, daily_budget_usd=usd)}


@pytest.mark.slow
def test_a_day_over_budget_submits_nothing(res):
    with res["warehouse"].db.connect() as con:  # the day before anything was sent, with an empty answer cache
        for table in ("llm_requests", "llm_batches", "ticket_responses"):
            con.execute(f"DELETE FROM {table} WHERE day = ?", [date.fromisoformat(DAY)])
    res["vectors"].db().drop_table(CACHE_TABLE)
    tight = with_budget(res, 0.001)
    result = run([ticket_triage, triage_gate, synthesis_batches], tight)
    passed, figures = verdict(result, "day_projected_within_budget")
    assert not passed, figures
    assert figures["projected_usd"] > figures["budget_usd"] == 0.001
    assert "synthesis_batches" not in materialized(result)
    assert sql(res, "SELECT count(*) AS n FROM llm_batches")[0]["n"] == 3  # only the other day's (its judge's too)
    result = run([ticket_triage, triage_gate, synthesis_batches], res)
    assert verdict(result, "day_projected_within_budget")[0] and "synthesis_batches" in materialized(result)


@pytest.mark.slow
def test_what_was_spent_is_checked_against_the_budget(res):
    tight = with_budget(res, 0.001)
    result = run([ticket_responses, day_spent_within_budget], tight)
    passed, figures = verdict(result, "day_spent_within_budget")
    assert not passed and figures["spent_usd"] > 0.001 and figures["still_to_pay_usd"] == 0
    assert verdict(run([ticket_responses, day_spent_within_budget], res), "day_spent_within_budget")[0]


@pytest.mark.slow
def test_pii_in_an_outgoing_request_fails_the_audit(res):
    day = date.fromisoformat(DAY)
    with res["warehouse"].db.connect() as con:  # as if redaction had missed what issue 20 found, and the day were sent again
        con.execute("UPDATE tickets SET text_redacted = text_redacted || ' SSN 123-45-6789, call 0049-30-1234567, from 192.168.1.20' "
                    "WHERE day = ? AND ticket_id IN (SELECT ticket_id FROM ticket_triage WHERE day = ? AND route = 'small_model' "
                    "ORDER BY ticket_id LIMIT 2)", [day, day])
    result = run([synthesis_batches, requests_carry_no_pii], res)
    passed, figures = verdict(result, "requests_carry_no_pii")
    # The two replies, and a shadow request where one of the tickets is in the judge's sample.
    sent = sql(res, "SELECT count(*) AS n FROM llm_requests WHERE day = ? AND superseded_at IS NULL AND body LIKE '%123-45-6789%'", day)[0]["n"]
    assert not passed and sent >= 2
    assert figures["with_pii"] == figures["found_ssn"] == figures["found_phone"] == figures["found_ip"] == sent


@pytest.mark.slow
def test_too_many_tickets_for_a_person_warns(res):
    day = date.fromisoformat(DAY)
    for row in sql(res, "SELECT ticket_id FROM ticket_responses WHERE day = ? AND source = 'batch' ORDER BY ticket_id LIMIT 60", day):
        answer_with(res, row["ticket_id"], needs_human=True)
    result = run([ticket_responses, needs_human_share], res)
    passed, figures = verdict(result, "needs_human_share")
    assert not passed and figures["needs_human"] == 60 and figures["share"] == 0.4
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.severity == dg.AssetCheckSeverity.WARN and result.success  # a warning stops nothing


@pytest.mark.slow
def test_a_shifted_category_mix_warns_against_the_trailing_days(res):
    assert verdict(run([ticket_triage, category_mix_drift], res, "2026-11-02"), "category_mix_drift")[0]
    with res["warehouse"].db.connect() as con:  # the day before, as if every ticket had been about one thing
        con.execute("UPDATE ticket_triage SET category = 'delivery_period' WHERE day = ?", [date.fromisoformat(DAY)])
    result = run([ticket_triage, category_mix_drift], res, "2026-11-02")
    passed, figures = verdict(result, "category_mix_drift")
    assert not passed and figures["distance"] > 0.35 and "delivery_period" in figures["largest_moves"]
    assert result.success


GOOD_TRIAGE = pd.DataFrame({"ticket_id": ["a", "b"], "category": ["refund", "refund"], "confidence": [0.2, 0.9],
                            "route": ["cache", "frontier"], "cache_similarity": [1.0, None], "input_tokens": [3, 5]})


@pytest.mark.parametrize("change, failing", [
    ({}, None),
    ({"ticket_id": ["a", "a"]}, "expect_column_values_to_be_unique"),
    ({"route": ["cache", "carrier_pigeon"]}, "expect_column_values_to_be_in_set"),
    ({"confidence": [0.2, 1.5]}, "expect_column_values_to_be_between"),
    ({"cache_similarity": [1.0000001, None]}, "expect_column_values_to_be_between"),
    ({"category": ["refund", None]}, "expect_column_values_to_not_be_null"),
])
def test_the_triage_suite_on_purpose_built_rows(change, failing):
    frame = GOOD_TRIAGE.assign(**change)
    names = ["ticket_id", "category", "confidence", "route", "cache_similarity", "input_tokens"]
    suite = [e for e in expectations.triage_suite(names, ["refund"]) if getattr(e, "column", None) in (None, *names)]
    outcome = expectations.validate("triage", suite, frame)
    assert outcome.success == (failing is None)
    assert [f["expectation"] for f in outcome.failures] == ([failing] if failing else [])


def test_a_missing_or_extra_column_fails_the_schema_expectation():
    outcome = expectations.validate("t", expectations.tickets_suite(["ticket_id", "day"]), pd.DataFrame({"ticket_id": ["a"], "extra": [1]}))
    assert not outcome.success and "expect_table_columns_to_match_set" in outcome.markdown()


@pytest.mark.slow
def test_a_digest_with_an_empty_headline_fails_its_suite(res):
    assert verdict(run([daily_digest, digest_expectations], res), "digest_expectations")[0]
    with res["warehouse"].db.connect() as con:  # the model wrote an empty headline
        (answer,) = con.execute("SELECT answer FROM llm_requests WHERE kind = 'digest' AND day = ? AND status = 'ok'",
                                [date.fromisoformat(DAY)]).fetchone()
        con.execute("UPDATE llm_requests SET answer = ? WHERE kind = 'digest' AND day = ? AND status = 'ok'",
                    [json.dumps({**json.loads(answer), "headline": ""}), date.fromisoformat(DAY)])
    passed, figures = verdict(run([daily_digest, digest_expectations], res), "digest_expectations")
    assert not passed and "headline" in figures["failures"] and figures["failed_expectations"] == 1
