"""Materialization and check metadata as the UI should show it: typed, and rounded to what the figure can mean.

Units, the same on every asset: `*_usd` is US dollars; rates, shares, `saving`, agreement and confidence are fractions
in [0, 1] (0.25 is 25%); `*_s` is seconds. Dagster plots a key over the partitions only when its values are numbers.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

# A 0.01% step in a fraction; wider figures need fewer places. Dollars keep micro-dollars: a request can cost less
# than a hundredth of a cent, and the $ shown must add up to the ledger's.
DECIMALS = 4
USD_DECIMALS = 6
WIDE = 100.0


def typed(metadata: dict[str, Any]) -> dict[str, Any]:
    """Numbers as Dagster's int, float and bool values, floats rounded; text and ready-made values as they are."""
    return {key: _typed(key, value) for key, value in metadata.items()}


def _typed(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        places = USD_DECIMALS if key.endswith("_usd") else 1 if abs(value) >= WIDE else DECIMALS
        return dg.MetadataValue.float(round(value, places))
    return value
