"""The price table and the cost of a request: $ from token counts, batch or synchronous."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

PER_MILLION = 1_000_000
# Until synthesis reports real usage, a request is estimated as the ticket plus the prompt around
# it (instructions and the JSON schema) and a reply of typical length.
PROMPT_OVERHEAD_TOKENS = 350
TYPICAL_OUTPUT_TOKENS = 300


@dataclass(frozen=True)
class ModelPrice:
    input: float
    cached_input: float  # a cache read
    output: float
    provider: str = "openai"  # whose API answers the model: openai (or a compatible endpoint) | anthropic
    as_of: str = ""  # the date this model's list price was read
    cache_write: float | None = None  # a cache write (Anthropic bills them above input); None: written at the input price


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    batch_discount: float
    models: dict[str, ModelPrice]
    routes: dict[str, str]  # route -> model

    def cost(self, model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0, batch: bool = False,
             written_tokens: int = 0) -> float:
        """$ of a request: ``input_tokens`` is every input token, of which ``cached_tokens`` were read from the prompt cache
        and ``written_tokens`` written to it."""
        price = self.price(model)
        write = price.input if price.cache_write is None else price.cache_write
        usd = ((input_tokens - cached_tokens - written_tokens) * price.input + cached_tokens * price.cached_input
               + written_tokens * write + output_tokens * price.output) / PER_MILLION
        return usd * (1 - self.batch_discount) if batch else usd

    def price(self, model: str) -> ModelPrice:
        if model not in self.models:
            raise KeyError(f"no price for model {model!r} in the price table of {self.as_of}; known: {sorted(self.models)}")
        return self.models[model]

    def provider_of(self, model: str) -> str:
        return self.price(model).provider

    def with_routes(self, routes: dict[str, str]) -> PriceTable:
        """The table with some routes sent to other models (each must have a price): how a provider is chosen per route."""
        unknown = {route for route in routes if route not in self.routes}
        if unknown:
            raise ValueError(f"no route {sorted(unknown)}; routes are {sorted(self.routes)}")
        for model in routes.values():
            self.price(model)
        return replace(self, routes={**self.routes, **routes})

    @property
    def frontier(self) -> str:
        return self.routes["frontier"]


def parse_routes(text: str) -> dict[str, str]:
    """``route=model,route=model`` (as NIGHTSHIFT_ROUTES is written) as a mapping."""
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"routes are written route=model,route=model; got {text!r}")
    return {route.strip(): model.strip() for route, model in pairs}


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The packaged table, or the JSON file at ``path`` (same shape)."""
    text = Path(path).read_text() if path else resources.files("nightshift.data").joinpath("prices.json").read_text()
    raw = json.loads(text)
    return PriceTable(
        as_of=raw["as_of"],
        batch_discount=float(raw["batch_discount"]),
        models={name: ModelPrice(**p) for name, p in raw["models"].items()},
        routes=dict(raw["routes"]),
    )


def expected_cost(table: PriceTable, route: str, ticket_tokens: int) -> float:
    """Estimated $ of answering one ticket by ``route``: cache is free, realtime pays full price, and a ticket held for
    a person costs no model anything."""
    if route in ("cache", "needs_human"):
        return 0.0
    return table.cost(table.routes[route], ticket_tokens + PROMPT_OVERHEAD_TOKENS, TYPICAL_OUTPUT_TOKENS,
                      batch=route != "realtime")


def frontier_sync_cost(table: PriceTable, ticket_tokens: int) -> float:
    """The naive baseline: every ticket to the frontier model, synchronously."""
    return table.cost(table.frontier, ticket_tokens + PROMPT_OVERHEAD_TOKENS, TYPICAL_OUTPUT_TOKENS)


def spend_summary(outcomes: list[dict]) -> dict:
    """$ spent, the synchronous-frontier $ for the same tokens, the saving and the tokens, for a set of request outcomes."""
    usd, sync = sum(o["usd"] for o in outcomes), sum(o["frontier_sync_usd"] for o in outcomes)
    return {"usd": round(usd, 6), "frontier_sync_usd": round(sync, 6), "saving": round(1 - usd / sync, 4) if sync else 0.0,
            "tokens": int(sum(o["input_tokens"] + o["output_tokens"] for o in outcomes))}
