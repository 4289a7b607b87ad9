"""Reading a model's JSON answer: parse the message content and validate it against its schema."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator


def content_of(body: dict) -> str:
    """The assistant message of a chat completion."""
    try:
        return body["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        return ""


def parse(body: dict, schema: dict) -> tuple[dict | None, str | None]:
    """The answer as a dict, or None and why it is unusable (not JSON, or not what the schema says)."""
    return parse_content(content_of(body), schema)


def unfenced(content: str) -> str:
    """The content without one Markdown code fence around it: models asked for bare JSON often add one."""
    text = content.strip()
    if text.startswith("```") and text.endswith("```") and text.count("\n") >= 1:
        return text.split("\n", 1)[1].rsplit("```", 1)[0]
    return content


def parse_content(content: str, schema: dict) -> tuple[dict | None, str | None]:
    """A stored answer, read as parse() reads a fresh one."""
    if not content:
        return None, "no message content"
    try:
        # strict=False: a raw line break inside a string is how small models write paragraphs; the schema still decides.
        answer = json.loads(unfenced(content), strict=False)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at {exc.pos}"
    problems = sorted(Draft202012Validator(schema).iter_errors(answer), key=lambda e: list(e.path))
    if problems:
        first = problems[0]
        where = "/".join(map(str, first.path)) or "(root)"
        return None, f"schema: {where}: {first.message}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
    return answer, None
