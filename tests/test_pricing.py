import json

import pytest

from nightshift.llm.pricing import PROMPT_OVERHEAD_TOKENS, TYPICAL_OUTPUT_TOKENS, expected_cost, frontier_sync_cost, load_prices


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
