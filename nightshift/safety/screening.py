"""The pre-filter: cheap patterns run on every ticket before it is routed.

It looks for four things a ticket must not get an automatic answer for: an attempt to instruct the
model (injection), abuse, self-harm, and a legal threat. Patterns catch the blatant cases only
(offline pre-filters measured at recall 0.07-0.14 on a labelled injection set), so the night also
sends flagged and sampled tickets to a model classifier; a hit here is enough to hold a ticket for a
person, a miss proves nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

INJECTION, ABUSE, SELF_HARM, LEGAL = "injection", "abuse", "self_harm", "legal_threat"
KINDS = (INJECTION, ABUSE, SELF_HARM, LEGAL)

PATTERNS: dict[str, tuple[re.Pattern, ...]] = {
    INJECTION: (
        # "ignore all previous instructions", "disregard your rules"
        re.compile(r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|guidelines|polic(y|ies))\b", re.I),
        # a role block: "SYSTEM: ...", "[assistant]:", "### developer:"
        re.compile(r"(^|\n)\W{0,4}(system|assistant|developer)\W{0,3}:", re.I),
        re.compile(r"\b(SYSTEM|ASSISTANT|DEVELOPER) ?(PROMPT|MESSAGE|NOTE|OVERRIDE)?:"),
        # the prompt's own delimiters, or a chat template's
        re.compile(r"</?\s*(ticket|passage|system|instructions?)\b[^>]*>|<\|(im_start|im_end|system|endoftext)\|>", re.I),
        # an answer written for the model to copy: {"draft_reply": ..., "needs_human": false}
        re.compile(r"\{\s*\\?\"(summary|draft_reply|needs_human|route|priority|sentiment|category|citations|no_article)\\?\"\s*:", re.I),
        re.compile(r"\b(you are now|from now on,? you|act as (an?|the) |pretend (to be|you are)|new instructions|jailbreak|developer mode|"
                   r"prompt injection|do anything now)\b", re.I),
        # a forwarded thread in which "staff" already approved what the customer wants
        # (spaces, not line breaks, before the header: with \s* a run of blank lines took quadratic time)
        re.compile(r"(^|\n)[^\S\n]*(from|von|de):[^\n]*\b(support|admin|billing|manager|team)\b[\s\S]{0,600}?"
                   r"\b(approved|authori[sz]ed|escalated|override|agreed to refund)\b", re.I),
    ),
    ABUSE: (
        re.compile(r"\b(i('| wi)ll|i am going to|gonna)\s+(kill|hurt|find|destroy|beat)\s+(you|your|them)\b", re.I),
        re.compile(r"\b(fuck(ing)?|motherfucker|bitch|cunt|asshole|bastard)\b", re.I),
    ),
    SELF_HARM: (
        re.compile(r"\b(kill(ing)? myself|suicid(e|al)|end(ing)? my (own )?life|self[- ]harm|want(ed)? to die|hurt(ing)? myself|"
                   r"no reason to live)\b", re.I),
    ),
    LEGAL: (
        re.compile(r"\b(my |our )?(lawyer|attorney|solicitor)s?\b|\b(lawsuit|class action|small claims|legal action|legal proceedings|"
                   r"cease and desist)\b|\bsue (you|your|the)\b|\b(see|take) you (to|in) court\b", re.I),
    ),
}


@dataclass(frozen=True)
class Flag:
    kind: str
    evidence: str  # the words that matched, shortened: what a reviewer reads first


def screen(text: str) -> list[Flag]:
    """The first match of each kind, in KINDS order; empty when nothing matched."""
    flags = []
    for kind in KINDS:
        for pattern in PATTERNS[kind]:
            if m := pattern.search(text):
                flags.append(Flag(kind, " ".join(m.group(0).split())[:60]))
                break
    return flags


def describe(flags: list[Flag]) -> str:
    """'injection ("ignore all previous instructions"); legal_threat ("lawyer")'"""
    return "; ".join(f'{f.kind} ("{f.evidence}")' for f in flags)


def in_sample(ticket_id: str, share: float) -> bool:
    """A stable sample: the same tickets are in it on every rerun of the day."""
    return int(hashlib.sha256(ticket_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share
