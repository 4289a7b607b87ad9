"""A day of tickets answered by a real model: SmolLM2-135M on llama.cpp's server, started on loopback by the test.

Real tokens and usage come back, answers are validated against their schema, and an answer that is not usable is
retried with a note saying what was wrong. `.ci/run` installs the model (`bash dev.sh model`), so there a missing one
fails; elsewhere the test is skipped.
"""

import json

import dagster as dg
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.app.runner import run_days
from nightshift.ingest.samples import SampleSpec, write_days
from nightshift.llm import local_model, prompts
from nightshift.llm.offline import MARKER, NAME
from tests.conftest import SAMPLE_START
from tests.services import unavailable

pytestmark = pytest.mark.slow


@pytest.fixture
def model_url(home):
    try:
        local_model.require()
    except local_model.ModelUnavailable as exc:
        unavailable(str(exc))
    with local_model.running(log=home.root.parent / "model-server.log") as url:
        yield url


def test_a_day_through_the_whole_chain_with_a_real_model(home, model_url, monkeypatch):
    monkeypatch.setenv("NIGHTSHIFT_CHAT_URL", model_url)
    monkeypatch.setenv("NIGHTSHIFT_CHAT_DIALECT", local_model.DIALECT)
    write_days(home.landing, SAMPLE_START, 1, SampleSpec(tickets_per_day=6, with_malformed=False))
    defs = build_definitions(home, "")
    (summary,) = run_days(defs, dg.DagsterInstance.ephemeral(), "nightly_job", [SAMPLE_START], collect=True)
    db = defs.resources["warehouse"].db

    responses = db.rows("SELECT ticket_id, route, status, model, error, hold_reason, response, input_tokens, output_tokens "
                        "FROM ticket_responses")
    assert len(responses) == 6 and summary["tickets"] == 6
    # Nothing left pending, nothing dropped. A real model's answer may be held for a person (the safety classifier
    # flagged it, or the draft asks for what the policy forbids): then it says why.
    assert {r["status"] for r in responses} <= {"ok", "failed", "held"}, [(r["status"], r["error"]) for r in responses]
    assert all(r["hold_reason"] for r in responses if r["status"] == "held")
    answered = [r for r in responses if r["status"] == "ok" and r["route"] != "cache"]
    assert answered, "the model answered nothing usable"
    for r in answered:
        assert MARKER not in r["response"] and r["model"] != NAME  # a model wrote it, not the offline responder
        assert r["input_tokens"] > 100 and r["output_tokens"] > 0  # usage as llama.cpp counted it
        assert set(json.loads(r["response"])) == set(prompts.REPLY_SCHEMA["required"])

    requests = db.rows("SELECT custom_id, attempt, status, error, body, input_tokens FROM llm_requests ORDER BY custom_id, attempt")
    assert requests and all(r["status"] in ("ok", "invalid", "failed") for r in requests)
    by_id: dict[str, list[dict]] = {}
    for r in requests:
        by_id.setdefault(r["custom_id"], []).append(r)
    for attempts in by_id.values():
        for before, after in zip(attempts, attempts[1:]):
            assert before["status"] != "ok"
            if before["status"] == "invalid":  # the retry told the model what was wrong with its answer
                note = json.loads(after["body"])["messages"][-1]["content"]
                assert note.startswith(prompts.RETRY_NOTE) and before["error"] in note
        last = attempts[-1]
        assert last["status"] == "ok" or len(attempts) == 3 or last["status"] == "failed"
    assert summary["spent_usd"] > 0
    # The blocking checks hold (schema, PII); the warnings (a weak model asks for people often) are the model's to earn.
    assert db.rows("SELECT check_name FROM check_results WHERE NOT passed AND severity = 'ERROR'") == []
