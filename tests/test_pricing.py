import json

import pytest

from nightshift.llm.pricing import (
    PROMPT_OVERHEAD_TOKENS,
    TYPICAL_OUTPUT_TOKENS,
    expected_cost,
    frontier_sync_cost,
    load_prices,
    parse_routes,
)


def test_packaged_table_has_list_prices_and_batch_discount():
    table = load_prices()
    assert table.as_of and table.batch_discount == 0.5
    assert table.cost("gpt-4.1", 1_000_000, 0) == pytest.approx(2.0)
    assert table.cost("gpt-4.1", 0, 1_000_000, batch=True) == pytest.approx(4.0)
    assert table.cost("gpt-4.1-mini", 1_000_000, 0, cached_tokens=1_000_000) == pytest.approx(0.10)


def test_route_costs_order_and_baseline():
    table = load_prices()
    costs = {r: expected_cost(table, r, 100) for r in ("cache", "small_model", "frontier", "realtime")}
    assert costs["cache"] == 0 < costs["small_model"] < costs["frontier"] < costs["realtime"]
    assert costs["realtime"] == pytest.approx(frontier_sync_cost(table, 100))
    assert frontier_sync_cost(table, 100) == pytest.approx(((100 + PROMPT_OVERHEAD_TOKENS) * 2 + TYPICAL_OUTPUT_TOKENS * 8) / 1e6)


def test_override_file_and_unknown_model(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"as_of": "2027-01-01", "batch_discount": 0.4,
                                "models": {"m": {"input": 1, "cached_input": 0.5, "output": 2}},
                                "routes": {"small_model": "m", "frontier": "m", "realtime": "m"}}))
    table = load_prices(path)
    assert table.cost("m", 1_000_000, 1_000_000, batch=True) == pytest.approx(1.8)
    with pytest.raises(KeyError, match="no price for model 'gpt-9'"):
        table.cost("gpt-9", 1, 1)


def test_claude_models_are_priced_with_cache_writes_and_dated():
    table = load_prices()
    sonnet = table.price("claude-sonnet-5-5")
    assert sonnet.provider == "anthropic" and sonnet.as_of and table.provider_of("gpt-4.1") == "openai"
    # 1M input of which 200K read from the cache and 100K written to it, and 10K out, in a batch.
    usd = table.cost("claude-sonnet-5-5", 1_000_000, 10_000, cached_tokens=200_000, batch=True, written_tokens=100_000)
    assert usd == pytest.approx((700_000 * 2.00 + 200_000 * 0.20 + 100_000 * 2.50 + 10_000 * 10.00) / 1e6 * 0.5)
    # OpenAI bills no writes: a written token costs what input costs.
    assert table.cost("gpt-4.1", 1_000_000, 0, written_tokens=500_000) == table.cost("gpt-4.1", 1_000_000, 0)


def test_routes_choose_the_model_and_so_the_provider():
    table = load_prices().with_routes(parse_routes("frontier=claude-opus-5, realtime=claude-opus-5"))
    assert table.frontier == "claude-opus-5" and table.provider_of(table.routes["frontier"]) == "anthropic"
    assert table.routes["small_model"] == load_prices().routes["small_model"]
    with pytest.raises(KeyError, match="no price for model 'claude-9'"):
        load_prices().with_routes({"frontier": "claude-9"})
    with pytest.raises(ValueError, match="no route"):
        load_prices().with_routes({"overnight": "gpt-4.1"})
    with pytest.raises(ValueError, match="route=model"):
        parse_routes("frontier:gpt-4.1")
