"""Anthropic's Message Batches through the official anthropic client, over real HTTP against `nightshift batch-server`'s
Anthropic routes. The failure cases (errored, expired, cancelled, restart, cost once) run for both protocols in
tests/test_synthesis.py; here, a night on Claude alone, a night that mixes the providers, and the protocol's edges."""

import anthropic
import pytest

from nightshift.assets.synthesis import synthesis_batches
from nightshift.llm import prompts
from nightshift.llm.anthropic_messages import params_of
from tests.test_synthesis import (  # noqa: F401 (fixtures)
    CLAUDE,
    OFFLINE,
    TOKEN,
    anthropic_client,
    day_cost,
    day_home,
    drain,
    engine,
    materialize,
    port,
    realtime_cost,
    resources,
    server,
    table,
    triaged,
    usage_cost,
)

MIXED = "frontier=claude-sonnet-5-5,realtime=claude-sonnet-5-5"  # the small model stays on OpenAI


@pytest.mark.slow
def test_a_clean_night_on_claude_comes_back_whole_and_costs_what_the_results_say(day_home, server):  # noqa: F811
    res = resources(day_home, server, routes=CLAUDE)
    submitted = materialize([synthesis_batches], res)["synthesis_batches"]
    assert submitted["submitted_batches"] == 2 and submitted["realtime_answered"] == 3
    batches = table(res, "SELECT * FROM llm_batches")
    assert {(b["provider"], b["model"]) for b in batches} == {("anthropic", "claude-haiku-4-5"), ("anthropic", "claude-sonnet-5-5")}
    assert all(b["input_file_id"] is None for b in batches)  # the requests go inline
    runs = drain(res)
    assert runs[0]["ticket_responses"]["status_ok"] == 150
    rows = table(res, "SELECT * FROM ticket_responses")
    assert len(rows) == 150 and all(r["summary"] and r["draft_reply"] for r in rows)
    assert {r["model"] for r in rows} == {OFFLINE}  # the stand-in wrote them, whichever model was asked
    asked = table(res, "SELECT DISTINCT route, model FROM llm_requests WHERE kind = 'reply' AND route = 'small_model'")
    assert [r["model"] for r in asked] == ["claude-haiku-4-5"]
    assert table(res, "SELECT status FROM daily_digests")[0]["status"] == "ok"
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)
    quality = table(res, "SELECT * FROM daily_cost_and_quality")[0]
    assert quality["spent_usd"] == pytest.approx(day_cost(res), abs=1e-6) and 0 < quality["saving"] < 1


@pytest.mark.slow
def test_a_night_mixes_providers_per_route_and_counts_each_providers_dollars(day_home, server):  # noqa: F811
    res = resources(day_home, server, routes=MIXED)
    submitted = materialize([synthesis_batches], res)["synthesis_batches"]
    assert "frontier claude-sonnet-5-5 (anthropic)" in submitted["providers"] and "small_model gpt-4.1-mini (openai)" in submitted["providers"]
    drain(res)
    batches = {(b["provider"], b["model"]) for b in table(res, "SELECT provider, model FROM llm_batches")}
    assert batches == {("openai", "gpt-4.1-mini"), ("anthropic", "claude-sonnet-5-5")}
    rows = table(res, "SELECT route, model, status FROM llm_requests WHERE kind = 'reply'")
    assert {(r["route"], r["model"]) for r in rows} == {("small_model", "gpt-4.1-mini"), ("frontier", "claude-sonnet-5-5"),
                                                        ("realtime", "claude-sonnet-5-5")}
    assert {r["status"] for r in rows} == {"ok"}
    by_provider = {r["provider"]: r["usd"] for r in table(
        res, "SELECT b.provider, sum(r.usd) AS usd FROM llm_requests r JOIN llm_batches b USING (batch_id) GROUP BY 1")}
    assert by_provider["openai"] > 0 and by_provider["anthropic"] > 0
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)


def test_the_protocols_edges_read_through_the_anthropic_client(server):  # noqa: F811
    api = anthropic_client(server)
    with pytest.raises(anthropic.BadRequestError):
        api.messages.batches.create(requests=[])
    with pytest.raises(anthropic.NotFoundError):
        api.messages.batches.retrieve("batch_missing")
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=str(api.base_url), api_key="wrong", max_retries=0).messages.batches.retrieve("batch_x")
    body = prompts.reply_request("claude-haiku-4-5", "My card was charged twice.", "billing")
    message = api.messages.create(**params_of(body))
    assert message.stop_reason == "tool_use" and message.content[0].type == "tool_use"
    assert set(message.content[0].input) >= {"summary", "draft_reply"} and message.usage.input_tokens > 0
    batch = api.messages.batches.create(requests=[{"custom_id": "t1", "params": params_of(body)}])
    assert batch.processing_status == "in_progress" and batch.request_counts.processing == 1 and batch.results_url is None
