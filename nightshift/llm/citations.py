"""A reply's citations checked against the passages its prompt quoted: an id it was not given makes the answer unusable."""

from __future__ import annotations

import json

from nightshift.llm import prompts


def given(body: str | dict) -> list[str]:
    """The passage ids a stored or fresh reply request quoted."""
    request = json.loads(body) if isinstance(body, str) else body
    user = next((str(m.get("content") or "") for m in request.get("messages", []) if m.get("role") == "user"), "")
    return prompts.passage_ids(user)


def problem(answer: dict, passages: list[str]) -> str | None:
    """Why the answer's citations cannot stand, or None: every cited id must be one of ``passages``."""
    unknown = [cited for cited in answer.get("citations") or [] if cited not in passages]
    if not unknown:
        return None
    offered = ", ".join(passages) if passages else "none"
    return f"citations: {unknown[0]!r} is not the id of a passage you were given (given: {offered})"
