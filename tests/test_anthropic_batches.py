"""Anthropic's Message Batches, driven by the official anthropic client over real HTTP against `nightshift batch-server`'s
Anthropic routes: the cases the OpenAI path passes (tests/test_synthesis.py), and a night that mixes the two providers."""

import json
import time

import anthropic
import pytest

from nightshift.app.settings import resources_for
from nightshift.assets.synthesis import synthesis_batches
from nightshift.lib.home import Home
from nightshift.llm import prompts
from nightshift.llm.anthropic_messages import chat_of, params_of
from nightshift.llm.engine import TERMINAL, Faults, LocalBatchEngine
from nightshift.llm.offline import respond
from nightshift.llm.server import BatchServer
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices
from tests.test_synthesis import TOKEN, day_home, drain, engine, materialize, port, server, table, triaged  # noqa: F401

CLAUDE = "small_model=claude-haiku-4-5,frontier=claude-sonnet-5-5,realtime=claude-sonnet-5-5"
MIXED = "frontier=claude-sonnet-5-5,realtime=claude-sonnet-5-5"  # the small model stays on OpenAI


def root(server: BatchServer) -> str:
    return server.base_url.removesuffix("/v1")  # the anthropic client adds /v1/messages itself


def resources(home: Home, server: BatchServer, routes: str = CLAUDE, max_attempts: int = 3) -> dict:
    """Fresh resources, as a restarted process builds them: OpenAI's routes and Anthropic's on the one local server."""
    llm = LLMProvider(provider="openai", base_url=server.base_url, api_key=TOKEN, anthropic_base_url=root(server),
                      anthropic_api_key=TOKEN, max_attempts=max_attempts, max_retries=0)
    return {**resources_for(home, ""), "llm": llm, "prices": Prices(routes=routes)}


def client(server: BatchServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=root(server), api_key=TOKEN, max_retries=0)


def usage_cost(res, server) -> float:
    """What the provider's own results say the Anthropic batches cost, line by line (every input token: uncached, read
    and written), plus the Claude requests answered synchronously."""
    prices, api, total = res["prices"].table(), client(server), 0.0
    for batch in table(res, "SELECT batch_id, model FROM llm_batches WHERE provider = 'anthropic'"):
        for line in api.messages.batches.results(batch["batch_id"]):
            if line.result.type == "succeeded":
                u = line.result.message.usage
                read, written = u.cache_read_input_tokens or 0, u.cache_creation_input_tokens or 0
                total += prices.cost(batch["model"], u.input_tokens + read + written, u.output_tokens, read, batch=True,
                                     written_tokens=written)
    for row in table(res, "SELECT body, model FROM llm_requests WHERE mode = 'sync' AND status = 'ok'"):
        usage = respond(chat_of(params_of(json.loads(row["body"]))))["usage"]  # what the server answered the message with
        total += prices.cost(row["model"], usage["prompt_tokens"], usage["completion_tokens"])
    return total


def spent(res) -> float:
    return table(res, "SELECT sum(usd) AS usd FROM llm_requests WHERE superseded_at IS NULL")[0]["usd"]


def test_a_clean_night_on_claude_comes_back_whole_and_costs_what_the_results_say(day_home, server):
    res = resources(day_home, server)
    submitted = materialize([synthesis_batches], res)["synthesis_batches"]
    assert submitted["submitted_batches"] == 2 and submitted["realtime_answered"] == 3
    batches = table(res, "SELECT * FROM llm_batches")
    assert {(b["provider"], b["model"]) for b in batches} == {("anthropic", "claude-haiku-4-5"), ("anthropic", "claude-sonnet-5-5")}
    assert all(b["input_file_id"] is None for b in batches)  # requests go inline
    runs = drain(res)
    assert runs[0]["ticket_responses"]["status_ok"] == 150
    rows = table(res, "SELECT * FROM ticket_responses")
    assert len(rows) == 150 and all(r["summary"] and r["draft_reply"] for r in rows)
    assert {r["model"] for r in rows if r["route"] == "small_model"} == {"claude-haiku-4-5"}
    assert table(res, "SELECT status FROM daily_digests")[0]["status"] == "ok"
    assert spent(res) == pytest.approx(usage_cost(res, server), rel=1e-9)
    quality = table(res, "SELECT * FROM daily_cost_and_quality")[0]
    assert quality["spent_usd"] == pytest.approx(spent(res), abs=1e-6) and 0 < quality["saving"] < 1


def test_errored_requests_are_retried_and_what_still_fails_is_reported(day_home, server, engine):  # noqa: F811
    engine.faults = Faults(fail_share=0.3)
    res = resources(day_home, server, max_attempts=2)
    materialize([synthesis_batches], res)
    drain(res)
    attempts = table(res, "SELECT custom_id, attempt, status, error FROM llm_requests WHERE mode = 'batch'")
    first_failed = {r["custom_id"] for r in attempts if r["attempt"] == 1 and r["status"] == "failed"}
    assert first_failed and {r["custom_id"] for r in attempts if r["attempt"] == 2} == first_failed
    assert all("injected failure" in r["error"] for r in attempts if r["status"] == "failed")
    rows = table(res, "SELECT * FROM ticket_responses")
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 150 and failed and all(r["attempts"] == 2 for r in failed)
    assert spent(res) == pytest.approx(usage_cost(res, server), rel=1e-9)


def test_an_expired_batch_keeps_its_succeeded_requests_and_resubmits_the_rest(day_home, server, engine):  # noqa: F811
    engine.faults = Faults(expire_after=0.5)
    res = resources(day_home, server)
    materialize([synthesis_batches], res)
    api = client(server)
    ids = [b["batch_id"] for b in table(res, "SELECT batch_id FROM llm_batches")]
    while any(api.messages.batches.retrieve(i).processing_status != "ended" for i in ids):
        time.sleep(0.05)
    assert all(api.messages.batches.retrieve(i).request_counts.expired > 0 for i in ids)
    engine.faults = Faults()
    drain(res)
    first = table(res, "SELECT custom_id, status FROM llm_requests WHERE attempt = 1 AND mode = 'batch'")
    kept, expired = ({r["custom_id"] for r in first if r["status"] == s} for s in ("ok", "expired"))
    assert kept and expired and len(kept) + len(expired) == len(first)
    assert {r["custom_id"] for r in table(res, "SELECT custom_id FROM llm_requests WHERE attempt = 2")} == expired
    rows = {r["ticket_id"]: r for r in table(res, "SELECT * FROM ticket_responses")}
    assert all(r["status"] == "ok" for r in rows.values()) and all(rows[t]["attempts"] == 1 for t in kept if t in rows)
    assert spent(res) == pytest.approx(usage_cost(res, server), rel=1e-9)


def test_a_cancelled_batch_is_completed_by_resubmission(day_home, server, engine):  # noqa: F811
    engine.faults = Faults(line_delay_s=0.2)
    res = resources(day_home, server)
    materialize([synthesis_batches], res)
    api = client(server)
    for batch in table(res, "SELECT batch_id FROM llm_batches"):
        assert api.messages.batches.cancel(batch["batch_id"]).processing_status in ("canceling", "ended")
    engine.faults = Faults()
    drain(res)
    first = table(res, "SELECT status FROM llm_batches WHERE attempt = 1 AND prompt_versions <> ?", prompts.ANSWER_JUDGE)
    assert {b["status"] for b in first} == {"cancelled"}
    assert {r["status"] for r in table(res, "SELECT status FROM ticket_responses")} == {"ok"}
    assert spent(res) == pytest.approx(usage_cost(res, server), rel=1e-9)


def test_a_restart_between_submit_and_collect_loses_nothing_and_costs_once(day_home, engine, port):  # noqa: F811
    engine.faults = Faults(line_delay_s=0.01)
    with BatchServer(engine, port=port, token=TOKEN).running() as running:
        materialize([synthesis_batches], resources(day_home, running))
    with BatchServer(LocalBatchEngine(engine.root), port=port, token=TOKEN).running() as running:
        res = resources(day_home, running)
        assert drain(res)
        assert {r["status"] for r in table(res, "SELECT status FROM ticket_responses")} == {"ok"}
        once = spent(res)
        with res["warehouse"].db.connect() as con:
            con.execute("UPDATE llm_batches SET collected_at = NULL")  # collect every batch a second time
        drain(res)
        assert spent(res) == pytest.approx(once, abs=1e-12) == pytest.approx(usage_cost(res, running), rel=1e-9)
        assert len(table(res, "SELECT * FROM ticket_responses")) == 150


def test_a_night_mixes_providers_per_route_and_counts_each_providers_dollars(day_home, server):
    res = resources(day_home, server, routes=MIXED)
    materialize([synthesis_batches], res)
    drain(res)
    batches = {(b["provider"], b["model"]) for b in table(res, "SELECT provider, model FROM llm_batches")}
    assert batches == {("openai", "gpt-4.1-mini"), ("anthropic", "claude-sonnet-5-5")}
    rows = table(res, "SELECT route, model, status FROM ticket_responses WHERE route IN ('small_model', 'frontier', 'realtime')")
    assert {(r["route"], r["model"]) for r in rows} == {("small_model", "gpt-4.1-mini"), ("frontier", "claude-sonnet-5-5"),
                                                        ("realtime", "claude-sonnet-5-5")}
    assert {r["status"] for r in rows} == {"ok"}
    # Anthropic's $ are what its results say; the rest is OpenAI's, and the day's cost row holds both.
    anthropic_usd = table(res, "SELECT sum(usd) AS usd FROM llm_requests WHERE model LIKE 'claude-%'")[0]["usd"]
    assert anthropic_usd == pytest.approx(usage_cost(res, server), rel=1e-9) and anthropic_usd < spent(res)
    assert table(res, "SELECT spent_usd FROM daily_cost_and_quality")[0]["spent_usd"] == pytest.approx(spent(res), abs=1e-6)


def test_states_and_errors_read_through_the_anthropic_client(server):
    api = client(server)
    with pytest.raises(anthropic.BadRequestError):
        api.messages.batches.create(requests=[])
    with pytest.raises(anthropic.NotFoundError):
        api.messages.batches.retrieve("batch_missing")
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=root(server), api_key="wrong", max_retries=0).messages.batches.retrieve("batch_x")
    body = prompts.reply_request("claude-haiku-4-5", "My card was charged twice.", "billing")
    message = api.messages.create(**params_of(body))
    assert message.stop_reason == "tool_use" and message.content[0].type == "tool_use"
    assert set(message.content[0].input) >= {"summary", "draft_reply"} and message.usage.input_tokens > 0
