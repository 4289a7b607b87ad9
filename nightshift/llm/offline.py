"""The offline responder: answers chat requests without a model, for machines that have none.

It is a development stand-in, not an LLM. Every answer is built from the request itself: a JSON
schema in ``response_format`` is filled field by field (strings from the opening of the ticket the
message quotes, enums by the value the message names, booleans false), and each string field says that
no model wrote it. A reply cites the first help-centre passage its prompt quotes (no_article when there
is none). A judge request (the answer-judge schema) is decided by two rules: the candidate agrees with
the reference when the two answers name the same category, and is supported when it cites a passage.
Token usage is counted with the same tokenizer as the cost model, so the cost
accounting downstream runs on realistic numbers.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

from nightshift.lib.tokens import count_request, count_tokens
from nightshift.lib.words import plural
from nightshift.llm import prompts
from nightshift.safety.screening import screen

MARKER = "[offline responder, no model]"
# The name its answers carry in place of a model's: ticket_responses.model says this, never the model asked for.
NAME = "nightshift-offline"
SENTENCE = re.compile(r"(.{12,}?[.!?])(\s|$)", re.S)
HEADER = re.compile(r"^[^\n:]{1,40}:\s*$", re.M)
REPLY_FLOOR = 0.5
SUPPORT_FLOOR = 0.2


def opening(text: str, limit: int | None) -> str:
    """The first sentence of the message's longest paragraph (less its header), marked as not written by a model."""
    paragraph = max((prompts.ticket_of(text) or text).split("\n\n"), key=len, default="")
    body = HEADER.sub("", paragraph).strip()
    match = SENTENCE.match(body)
    sentence = " ".join((match.group(1) if match else body).split())
    value = f"{MARKER} {sentence}"
    return value[:limit] if limit else value


def named(name: str, text: str) -> str | None:
    """The value of a "... name: value" line in the message, if it has one."""
    match = re.search(rf"^[^\n:]*\b{re.escape(name)}:[ \t]*(\S[^\n]*)$", text, re.I | re.M)
    return match.group(1).strip() if match else None


def pick(options: list, text: str):
    """The first option the message names as a word, else the first option."""
    lowered = text.lower()
    for option in options:
        if isinstance(option, str) and re.search(rf"\b{re.escape(option.lower())}\b", lowered):
            return option
    return options[0]


def fill(schema: dict, text: str, name: str = ""):
    """An instance of ``schema`` (the subset structured outputs use) drawn from ``text``."""
    if "enum" in schema:
        return pick(schema["enum"], text)
    kind = schema.get("type")
    if kind == "object":
        return {key: fill(sub, text, key) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [fill(schema.get("items", {}), text, name) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "null":
        return None
    value = (named(name, text) if name else None) or opening(text, None)
    return value[: schema["maxLength"]] if "maxLength" in schema else value


def judge(text: str) -> dict:
    """A verdict from the categories the judge prompt labels its two answers with."""
    labels = {label: re.search(rf"^{label} \(category: (.*)\):$", text, re.M) for label in (prompts.REFERENCE, prompts.CANDIDATE)}
    reference, candidate = ((m.group(1).strip() if m else None) for m in labels.values())
    same = reference is not None and candidate is not None and reference.lower() == candidate.lower()
    cited = prompts.PASSAGE.findall(text.partition(prompts.CITED)[2])
    return {"same_intent": same, "acceptable": same, "supported": bool(cited),
            "reason": f"{MARKER} categories {reference!r} and {candidate!r} {'match' if same else 'differ'}; "
                      f"{plural(len(cited), 'cited passage')} shown"}


def safety(text: str) -> dict:
    """A verdict from the pre-filter's patterns: the offline stand-in knows no more than they do."""
    flags = {f.kind: f.evidence for f in screen(prompts.ticket_of(text) or text)}
    return {**{kind: kind in flags for kind in prompts.SAFETY_KINDS},
            "reason": f"{MARKER} " + (", ".join(f"{k}: {v!r}" for k, v in flags.items()) or "no pattern matched")}


def reply(schema: dict, text: str) -> dict:
    """A reply answer: the schema filled, citing the first passage the prompt quotes."""
    answer = fill(schema, text)
    if "citations" in answer:
        given = prompts.passage_ids(text)
        answer.update(citations=given[:1], no_article=not given)
    return answer


def respond(body: dict, created: int | None = None) -> dict:
    """A chat.completion object for the request ``body``."""
    messages = body.get("messages") or []
    # The first user message is the ticket; later ones are retry notes.
    user = next((str(m.get("content", "")) for m in messages if m.get("role") == "user"), "")
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
    if schema and "same_intent" in schema.get("properties", {}):
        content = json.dumps(judge(user))
    elif schema and "injection" in schema.get("properties", {}):
        content = json.dumps(safety(user))
    else:
        content = json.dumps(reply(schema, user)) if schema else opening(user, None)
    prompt_tokens, completion_tokens = count_request(body), count_tokens(content)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    return {
        "id": f"chatcmpl-offline-{digest}",
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": NAME,
        "system_fingerprint": "nightshift-offline",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": 0}},
    }
