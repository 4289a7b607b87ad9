"""Structured output in each endpoint's dialect, lenient reading of fenced JSON, and the note a retry carries."""

import json

import pytest

from nightshift.llm import prompts
from nightshift.llm.dialects import JSON_OBJECT, JSON_SCHEMA, PROMPT, adapt
from nightshift.llm.requests import REPLY, Request
from nightshift.llm.structured_output import parse_content

BODY = prompts.reply_request("m-small", "Where is my order 1234?", "shipping")


def test_json_schema_is_sent_as_written():
    assert adapt(BODY, JSON_SCHEMA) is BODY


def test_llama_cpp_gets_json_object_with_the_schema():
    sent = adapt(BODY, JSON_OBJECT)
    schema = sent["response_format"]["schema"]
    assert sent["response_format"]["type"] == "json_object" and schema["required"] == prompts.REPLY_SCHEMA["required"]
    assert "maxLength" not in json.dumps(schema)  # llama.cpp unrolls length bounds into a grammar too large to build
    assert BODY["response_format"]["type"] == "json_schema"  # the recorded request is untouched


def test_an_unconstrained_endpoint_gets_the_schema_in_its_system_message():
    sent = adapt(BODY, PROMPT)
    assert "response_format" not in sent
    system = sent["messages"][0]
    assert system["role"] == "system" and system["content"].startswith(prompts.REPLY_INSTRUCTIONS)
    assert json.dumps(prompts.REPLY_SCHEMA) in system["content"]
    assert sent["messages"][1:] == BODY["messages"][1:]


def test_an_unknown_dialect_is_refused():
    with pytest.raises(ValueError, match="json_schema, json_object, prompt"):
        adapt(BODY, "format")


def test_fenced_json_is_read_and_prose_is_not():
    answer = {"summary": "s", "sentiment": "neutral", "category": "c", "draft_reply": "d", "needs_human": False,
              "citations": [], "no_article": True}
    assert parse_content("```json\n" + json.dumps(answer) + "\n```", prompts.REPLY_SCHEMA) == (answer, None)
    assert parse_content("Sure! Here is the JSON.", prompts.REPLY_SCHEMA)[1].startswith("not JSON")


def test_a_retry_tells_the_model_what_was_wrong_and_keeps_the_request_identity():
    first = Request("T1", REPLY, "T1", "small_model", "m-small", prompts.SUPPORT_REPLY, BODY)
    retry = Request("T1", REPLY, "T1", "small_model", "m-small", prompts.SUPPORT_REPLY, BODY, problem="not JSON: Expecting value at 0")
    assert retry.hash == first.hash and retry.as_row()["request_hash"] == first.as_row()["request_hash"]
    note = retry.sent["messages"][-1]
    assert note["role"] == "user" and "not JSON: Expecting value at 0" in note["content"]
    assert prompts.without_retry_note(retry.sent) == BODY
    assert prompts.without_retry_note(prompts.with_retry_note(retry.sent, "again")) == BODY  # notes never pile up
