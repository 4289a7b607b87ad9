"""Chat requests as Anthropic's Messages API takes them, and its messages read back as chat completions.

nightshift writes, hashes and records every request in one shape, OpenAI's chat completion (see dialects), whatever
answers it. A request for a Claude model is translated just before it is sent: system messages become ``system``, the
reply schema becomes the input schema of one tool (Anthropic's way to structured output), and the message that comes
back is read as a chat completion whose content is that tool's input, so it is validated like every other answer.

The server side (``chat_of`` and ``message_of``) is the same mapping the other way, for the local batch server's
Anthropic routes.
"""

from __future__ import annotations

import json
import uuid

from nightshift.llm.dialects import schema_of

# Sonnet 5.5 refuses forced tool use, and Sonnet 5 refuses a non-default temperature (the model pages): the tool is
# offered, the system prompt asks for it, and an answer without it is invalid and retried like any other.
TOOL_RULE = "Answer by calling the {name} tool once, its input the whole answer."
STOP_REASONS = {"end_turn": "stop", "tool_use": "stop", "max_tokens": "length", "stop_sequence": "stop", "refusal": "content_filter"}


def params_of(body: dict) -> dict:
    """The Messages API parameters for a chat request ``body``."""
    schema = schema_of(body)
    name = (body.get("response_format") or {}).get("json_schema", {}).get("name", "answer")
    system = [str(m["content"]) for m in body.get("messages", []) if m.get("role") == "system"]
    if schema is not None:
        system.append(TOOL_RULE.format(name=name))
    turns: list[dict] = []
    for message in body.get("messages", []):
        if message.get("role") == "system":
            continue
        block = {"type": "text", "text": str(message.get("content") or "")}
        if turns and turns[-1]["role"] == message["role"]:
            turns[-1]["content"].append(block)  # a retry note follows the ticket: one user turn of two blocks
        else:
            turns.append({"role": message["role"], "content": [block]})
    params: dict = {"model": body["model"], "max_tokens": body.get("max_tokens") or 1024, "messages": turns}
    if system:
        params["system"] = "\n\n".join(system)
    if schema is not None:
        params["tools"] = [{"name": name, "description": "The whole answer, as the schema says.", "input_schema": schema}]
        params["tool_choice"] = {"type": "auto"}
    return params


def completion_of(message: dict) -> dict:
    """A Messages API ``message`` as a chat completion: the tool's input (or the text) as content; usage with every input
    token counted in prompt_tokens, as OpenAI counts them (Anthropic's input_tokens leaves out cache reads and writes)."""
    tool = next((b for b in message.get("content", []) if b.get("type") == "tool_use"), None)
    text = "".join(b.get("text", "") for b in message.get("content", []) if b.get("type") == "text")
    usage = message.get("usage") or {}
    read, written = int(usage.get("cache_read_input_tokens") or 0), int(usage.get("cache_creation_input_tokens") or 0)
    prompt, output = int(usage.get("input_tokens") or 0) + read + written, int(usage.get("output_tokens") or 0)
    return {
        "id": message.get("id"), "object": "chat.completion", "model": message.get("model"),
        "choices": [{"index": 0, "finish_reason": STOP_REASONS.get(message.get("stop_reason") or "", "stop"),
                     "message": {"role": "assistant", "content": json.dumps(tool["input"]) if tool else text}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output,
                  "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": written}},
    }


def error_text(error: dict) -> str:
    """``{"type": "error", "error": {"type", "message"}}`` (or its inner object) as one line."""
    inner = error.get("error", error) if isinstance(error.get("error"), dict) else error
    return f"{inner.get('type', 'error')}: {inner.get('message', '')}".strip()


# -- the server side: a Messages request answered by a chat endpoint ---------------------------------------------------


def chat_of(params: dict) -> dict:
    """The chat request a Messages API request asks: what a chat endpoint (or the offline responder) answers."""
    messages = [{"role": "system", "content": params["system"]}] if params.get("system") else []
    for turn in params.get("messages", []):
        content = turn.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        messages += [{"role": turn["role"], "content": b.get("text", "")} for b in blocks if b.get("type") == "text"]
    body: dict = {"model": params.get("model"), "max_tokens": params.get("max_tokens"), "messages": messages}
    tools = params.get("tools") or []
    if tools:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": tools[0]["name"], "strict": True, "schema": tools[0]["input_schema"]}}
    return body


def message_of(completion: dict, params: dict) -> dict:
    """A chat completion answering ``params`` as a Messages API message: a JSON answer to a request with a tool is that
    tool's call; usage split the Anthropic way (input_tokens without cache reads)."""
    content = completion["choices"][0]["message"].get("content") or ""
    tools = params.get("tools") or []
    answer = None
    if tools:
        try:
            answer = json.loads(content, strict=False)
        except ValueError:
            answer = None
    if isinstance(answer, dict):
        blocks, stop = [{"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": tools[0]["name"], "input": answer}], "tool_use"
    else:
        blocks, stop = [{"type": "text", "text": content}], "end_turn"
    usage = completion.get("usage") or {}
    read = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
            "model": completion.get("model") or params.get("model"),
            "content": blocks, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": int(usage.get("prompt_tokens") or 0) - read, "output_tokens": int(usage.get("completion_tokens") or 0),
                      "cache_read_input_tokens": read, "cache_creation_input_tokens": 0}}
