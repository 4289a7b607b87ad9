"""The offline responder: answers chat requests without a model, for machines that have none.

It is a development stand-in, not an LLM. Every answer is built from the request itself: a JSON
schema in ``response_format`` is filled field by field (strings from the opening of the ticket the
message quotes, enums by the value the message names, booleans false), and each string field says that
no model wrote it. A reply cites the first help-centre passage its prompt quotes (no_article when there
is none). A judge request (the answer-judge schema) reads what the customer reads: the candidate agrees with
the reference when the two answers name the same category and its draft reply is close to the reference's (MiniLM cosine
similarity at or over REPLY_FLOOR), and is supported when it is about the passages it cites (similarity at or over
SUPPORT_FLOOR) and contradicts none of them (see ``contradictions``); citing none, it is supported unless it states a
quantity the ticket did not give (a number, amount or duration: a claim only a passage could back).
Token usage is counted with the same tokenizer as the cost model, so the cost
accounting downstream runs on realistic numbers.
"""

from __future__ import annotations

import functools
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
# Floors measured by bench/judge_floor.py on Bitext replies (3,000 rows, floors read on the half not tuned on):
# candidate against reference reply: 0.42 is the 5% quantile of same-intent pairs on the tuning half; held out it passes
# 96.3% of same-intent pairs, 18.2% of other-intent pairs (49.6% within the same Bitext category, which the category
# check must catch) and none of the engine's off-topic weather reply. Two answers to one ticket sit closer than two
# tickets of one intent, so this errs towards agreeing.
REPLY_FLOOR = 0.42
# Reply against the passages it cites: 0.27 is the 2% quantile of Bitext replies against their own help-centre article;
# held out it passes 98.8% of those and 35.8% of replies against another article. Weak alone: a reply about the wrong
# article often passes, so the contradiction rules below carry most of `supported`.
SUPPORT_FLOOR = 0.27


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


@functools.cache
def embedder():
    """The house's MiniLM, loaded once per process and only when a judge request comes."""
    from nightshift.ingest.encoders import MiniLMEmbedder

    return MiniLMEmbedder(threads=2)


def similarities(anchor: str, others: list[str]) -> list[float]:
    """Cosine similarity of ``anchor`` with each of ``others``, the offline marker left out (it is not what they say)."""
    if not others:
        return []
    vectors = embedder().embed([t.replace(MARKER, " ").strip() or "-" for t in [anchor, *others]])
    return [float(v) for v in vectors[1:] @ vectors[0]]


NUMBER_WORDS = dict(zero=0, one=1, two=2, three=3, four=4, five=5, six=6, seven=7, eight=8, nine=9, ten=10, eleven=11, twelve=12,
                    fifteen=15, twenty=20, thirty=30, forty=40, fifty=50, sixty=60, ninety=90, hundred=100)
UNITS = {"minute": "minute", "hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year", "%": "%",
         "percent": "%", "per cent": "%", "$": "$", "usd": "$", "dollar": "$", "€": "€", "eur": "€", "euro": "€", "£": "£",
         "gbp": "£", "pound": "£"}
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(NUMBER_WORDS) + ")"
_UNIT = r"(minutes?|hours?|(?:working |business |calendar )?days?|weeks?|months?|years?|%|per ?cent|percent|usd|eur|gbp|dollars?|euros?|pounds?)"
# "5 to 10 working days", "3 days", "30%", "$20", "€ 5": every number of a range is tied to the unit after it.
QUANTITY = re.compile(rf"([$€£])\s?{_NUM}|\b{_NUM}(?:\s*(?:to|-|–|or|and)\s*{_NUM})?\s*{_UNIT}(?!\w)", re.I)
NEGATION = re.compile(r"\b(not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|didn't|without|unable)\b|n't\b", re.I)
WORD = re.compile(r"[a-z]+")


def number(text: str) -> float:
    word = NUMBER_WORDS.get(text.lower())
    return float(word) if word is not None else float(text.replace(",", "."))


def unit_of(text: str) -> str:
    lowered = text.lower()
    return next(u for k, u in sorted(UNITS.items(), key=lambda kv: -len(kv[0])) if k in lowered)


def quantities(text: str) -> set[tuple[float, str]]:
    """(value, unit) for every number the text ties to a unit of time, money or share."""
    found = set()
    for m in QUANTITY.finditer(text):
        if m.group(1):
            found.add((number(m.group(2)), unit_of(m.group(1))))
        else:
            unit = unit_of(m.group(5))
            found |= {(number(n), unit) for n in (m.group(3), m.group(4)) if n}
    return found


def content_words(sentence: str) -> set[str]:
    return {w for w in WORD.findall(NEGATION.sub(" ", sentence.lower())) if len(w) > 2}


def contradictions(reply: str, passages: str, ticket: str = "") -> list[str]:
    """What the reply states differently from the passages: a quantity in a unit the passages give, in a value they never
    give (one the ticket gave is the customer's own and does not count), or a sentence that restates a passage sentence
    (half its content words or more shared) with the opposite negation."""
    found = []
    given, own = quantities(passages), quantities(ticket)
    units = {u for _, u in given}
    for value, unit in sorted(quantities(reply) - given - own):
        if unit in units:
            found.append(f"{value:g} {unit} where the passage says {', '.join(f'{v:g}' for v, u in sorted(given) if u == unit)}")
    sources = [s for s in re.split(r"(?<=[.!?])\s+|\n+", passages) if content_words(s)]
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", reply):
        words = content_words(sentence)
        if not words or not sources:
            continue
        best = max(sources, key=lambda s: len(words & content_words(s)) / len(words | content_words(s)))
        overlap = len(words & content_words(best)) / len(words | content_words(best))
        if overlap >= 0.5 and bool(NEGATION.search(sentence)) != bool(NEGATION.search(best)):
            found.append(f"negates {' '.join(best.split())[:60]!r}")
    return found


def drafts(text: str) -> tuple[str | None, str | None, str | None, str | None, str]:
    """Reference category and reply, candidate category and reply, and the cited passages' text, as judge_request lays
    them out. Only what follows the ticket is read: a ticket cannot write answers of its own (its closing tag is defused)."""
    after = text.split("\n</ticket>", 1)[-1]
    labels = [re.search(rf"^{label} \(category: (.*)\):$", after, re.M) for label in (prompts.REFERENCE, prompts.CANDIDATE)]
    reference, candidate = labels
    cited_at = after.rfind(f"\n{prompts.CITED}\n")
    ref_reply = after[reference.end():candidate.start()].strip() if reference and candidate else None
    cand_reply = after[candidate.end():cited_at if cited_at > candidate.end() else None].strip() if candidate else None
    passages = after[cited_at:].partition(prompts.CITED)[2] if cited_at >= 0 else ""
    return (reference.group(1).strip() if reference else None, ref_reply,
            candidate.group(1).strip() if candidate else None, cand_reply, passages)


def judge(text: str) -> dict:
    """A verdict from the two answers' categories and replies and the passages the candidate cites (module docstring)."""
    reference, ref_reply, candidate, cand_reply, shown = drafts(text)
    same = reference is not None and candidate is not None and reference.lower() == candidate.lower()
    cited = prompts.PASSAGE.findall(shown)
    bodies = [b.strip() for b in re.findall(r"<passage [^>]*>\n(.*?)\n</passage>", shown, re.S)]
    ticket = prompts.ticket_of(text) or ""
    close = similarities(cand_reply or "", [ref_reply or ""])[0] if same else None
    agreed = same and close is not None and close >= REPLY_FLOOR
    said = f"categories {reference!r} and {candidate!r} {'match' if same else 'differ'}"
    if close is not None:
        said += f"; replies {close:.2f} {'>=' if agreed else '<'} {REPLY_FLOOR:.2f}"
    if bodies:
        about = max(similarities(cand_reply or "", bodies))
        wrong = contradictions(cand_reply or "", "\n".join(bodies), ticket)
        supported = about >= SUPPORT_FLOOR and not wrong
        said += f"; reply-passage {about:.2f} {'>=' if about >= SUPPORT_FLOOR else '<'} {SUPPORT_FLOOR:.2f}"
        said += f"; contradicts: {'; '.join(wrong)}" if wrong else "; no contradiction"
    else:
        claims = sorted(quantities(cand_reply or "") - quantities(ticket))
        supported = not claims
        said += f"; {plural(len(cited), 'cited passage')}, " + (f"unbacked {', '.join(f'{v:g} {u}' for v, u in claims)}" if claims
                                                                 else "no checkable claim")
    return {"same_intent": agreed, "acceptable": agreed, "supported": supported, "reason": f"{MARKER} {said}"[:300]}


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
