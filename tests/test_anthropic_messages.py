"""Chat requests as Messages API parameters and back, the usage Anthropic reports read the way the ledger counts it, and
a Message Batch's state as the ledger records it."""

import json

from nightshift.llm import prompts
from nightshift.llm.anthropic_messages import chat_of, completion_of, message_of, params_of
from nightshift.llm.batch_files import usage_of
from nightshift.llm.client import message_batch_state
from nightshift.llm.offline import respond
from nightshift.llm.structured_output import parse

BODY = prompts.with_retry_note(prompts.reply_request("claude-haiku-4-5", "I was charged twice for one order.", "billing"),
                               "schema: summary: '' is too short")


def test_a_chat_request_becomes_messages_with_the_schema_as_a_tool():
    params = params_of(BODY)
    assert params["model"] == "claude-haiku-4-5" and params["max_tokens"] == prompts.MAX_OUTPUT_TOKENS
    assert "temperature" not in params  # Sonnet 5 refuses a non-default one
    assert BODY["messages"][0]["content"] in params["system"] and "calling the" in params["system"]
    assert [turn["role"] for turn in params["messages"]] == ["user"]  # the ticket and the retry note: one turn, two blocks
    assert [b["text"] for b in params["messages"][0]["content"]] == [m["content"] for m in BODY["messages"][1:]]
    assert params["tools"][0]["input_schema"] == prompts.REPLY_SCHEMA and params["tool_choice"] == {"type": "auto"}
    # The server side reads the same request back: what the responder answers is the same ticket under the same schema.
    back = chat_of(params)
    assert back["response_format"]["json_schema"]["schema"] == prompts.REPLY_SCHEMA
    assert [m["content"] for m in back["messages"][1:]] == [m["content"] for m in BODY["messages"][1:]]


def test_a_tool_call_comes_back_as_a_valid_answer_with_every_input_token_counted():
    params = params_of(BODY)
    message = message_of(respond(chat_of(params)), params)
    assert message["stop_reason"] == "tool_use" and message["content"][0]["name"] == params["tools"][0]["name"]
    message["usage"].update(input_tokens=100, cache_read_input_tokens=400, cache_creation_input_tokens=50, output_tokens=30)
    completion = completion_of(message)
    answer, problem = parse(completion, prompts.REPLY_SCHEMA)
    assert problem is None and answer == message["content"][0]["input"]
    usage = usage_of(completion)
    assert (usage.input_tokens, usage.cached_tokens, usage.written_tokens, usage.output_tokens) == (550, 400, 50, 30)


def test_an_answer_without_the_tool_is_text_and_fails_validation():
    message = {"id": "msg_1", "model": "claude-haiku-4-5", "stop_reason": "end_turn", "content": [{"type": "text", "text": "Sorry."}],
               "usage": {"input_tokens": 10, "output_tokens": 2}}
    answer, problem = parse(completion_of(message), prompts.REPLY_SCHEMA)
    assert answer is None and problem.startswith("not JSON")
    assert json.loads(json.dumps(completion_of(message)))["usage"]["prompt_tokens"] == 10


def test_a_message_batch_state_reads_as_the_ledger_records_a_batch():
    counts = {"processing": 0, "succeeded": 6, "errored": 1, "canceled": 0, "expired": 3}
    batch = {"id": "msgbatch_1", "processing_status": "ended", "request_counts": counts, "results_url": "http://x/results"}
    state = message_batch_state(batch)
    assert (state.status, state.total, state.completed, state.failed, state.input_file_id) == ("expired", 10, 6, 1, None)
    assert message_batch_state({**batch, "cancel_initiated_at": "2026-12-06T00:00:00Z"}).status == "cancelled"
    assert message_batch_state({**batch, "request_counts": {**counts, "expired": 0}}).status == "completed"
    running = message_batch_state({**batch, "processing_status": "in_progress", "results_url": None})
    assert running.status == "in_progress" and running.output_file_id is None is state.output_file_id
