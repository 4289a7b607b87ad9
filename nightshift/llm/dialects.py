"""Structured output as each kind of chat endpoint takes it.

nightshift writes every request the way OpenAI takes it: ``response_format`` of type ``json_schema``. vLLM takes that
too; llama.cpp's server rejects it and wants ``{"type": "json_object", "schema": ...}``; some endpoints (Ollama's
OpenAI route among them) constrain nothing. A request is translated just before it is sent, so what the ledger records
and hashes stays the same whatever answers it, and every answer is validated against its schema afterwards anyway.
"""

from __future__ import annotations

import copy
import json

JSON_SCHEMA = "json_schema"  # OpenAI, Azure OpenAI, vLLM: the request as written
JSON_OBJECT = "json_object"  # llama.cpp server: {"type": "json_object", "schema": ...}
PROMPT = "prompt"            # no constraint: the schema goes into the system message
DIALECTS = (JSON_SCHEMA, JSON_OBJECT, PROMPT)


def schema_of(body: dict) -> dict | None:
    return ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")


def without_length_bounds(schema):
    """The schema without upper bounds on string length. llama.cpp unrolls maxLength into one grammar rule per character, and a
    2,000-character bound makes the server refuse the grammar (and, seen here, fall over); the bounds are checked when
    the answer is validated, and a too-long answer is retried like any other invalid one."""
    if isinstance(schema, dict):
        return {k: without_length_bounds(v) for k, v in schema.items() if k != "maxLength"}
    if isinstance(schema, list):
        return [without_length_bounds(v) for v in schema]
    return schema


def adapt(body: dict, dialect: str) -> dict:
    """The request ``body`` as an endpoint of ``dialect`` takes it."""
    if dialect not in DIALECTS:
        raise ValueError(f"structured-output dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    schema = schema_of(body)
    if dialect == JSON_SCHEMA or schema is None:
        return body
    adapted = copy.deepcopy(body)
    if dialect == JSON_OBJECT:
        adapted["response_format"] = {"type": "json_object", "schema": without_length_bounds(schema)}
        return adapted
    del adapted["response_format"]
    rule = ("Reply with one JSON object and nothing else: no prose, no code fence. It must validate against this "
            "JSON schema:\n" + json.dumps(schema))
    messages = adapted["messages"]
    if messages and messages[0].get("role") == "system":
        messages[0] = {**messages[0], "content": f"{messages[0]['content']}\n\n{rule}"}
    else:
        messages.insert(0, {"role": "system", "content": rule})
    return adapted
