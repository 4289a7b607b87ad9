"""The routing policy: where each ticket's answer comes from, and why.

Routes, from cheapest to dearest: ``cache`` (an earlier answer to the same question, free),
``small_model`` (cheap model through the batch API), ``frontier`` (strong model through the batch
API), ``realtime`` (strong model now, at full price: only for what cannot wait for the night); and
``needs_human``: a ticket the safety pre-filter flagged, which no model answers.
The rules run in a fixed order and the first that applies decides; its reason is stored with
the decision, so every route can be explained after the fact. When measured quality tightened a
knob (see tightening), a ticket the tightening moved says so in its reason too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

CACHE, SMALL, FRONTIER, REALTIME, HUMAN = "cache", "small_model", "frontier", "realtime", "needs_human"
ROUTES = (CACHE, SMALL, FRONTIER, REALTIME, HUMAN)
# Urgent wording in the text is not a route: anyone can type "urgent". Realtime comes from a priority (the ticket's
# own, or the triage model's) or a category, and its daily share is capped (see cap_realtime).
# A sentence and the marks that end it. One pass: the single pattern "[^?.!]*[A-Za-z][^?.!]*\?+" backtracked in cubic
# time over a long sentence with no question mark (0.5 s at 800 characters, hours at the 20,000 a ticket may have).
SENTENCE = re.compile(r"([^?.!]*)([?.!]*)")
LETTER = re.compile(r"[A-Za-z]")
JOINS = re.compile(r"\b(also|additionally|another thing|one more thing)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Tightened:
    """A knob that measured quality moved for the night, from ``before`` to ``after``, and why."""

    knob: str  # cache_threshold | min_confidence
    before: float
    after: float
    why: str


@dataclass(frozen=True)
class RoutingConfig:
    cache_threshold: float = 0.93          # chosen from data: see cache_policy.calibrate
    min_confidence: float = 0.6            # below: the small model would be guessing the intent
    ood_similarity: float = 0.45           # nearest known ticket below this: unlike anything seen
    max_small_tokens: int = 400            # longer tickets go to the frontier model
    max_small_questions: int = 1           # so do tickets that ask several things
    realtime_priorities: frozenset[str] = field(default_factory=lambda: frozenset({"urgent", "blocker", "critical"}))
    realtime_categories: frozenset[str] = field(default_factory=lambda: frozenset({"outage", "fraud"}))
    realtime_cap: float = 0.05             # the most of a day's tickets answered at full price; the rest wait for the batch
    tightened: tuple[Tightened, ...] = ()  # what measured quality changed above, for the reasons
    # (route, category) pairs measured under target: that route answers none of that category tonight, and why.
    gated: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Signals:
    """What the router knows about one ticket."""

    questions: int                         # separate asks in the body (see question_count)
    category: str
    confidence: float
    priority: str | None
    tokens: int
    nearest_known: float                   # similarity to the nearest labelled/seen ticket
    cache_similarity: float | None = None  # nearest valid cache entry (same prompt version and model, fresh)
    cache_category: str | None = None
    cache_probe: bool = False              # the entry is on probation: its serve is judged before it is given
    passages: int | None = None            # knowledge-base passages above the retrieval floor; None: no knowledge base
    safety: str | None = None              # what the safety pre-filter found (see safety.screening); None: nothing


@dataclass(frozen=True)
class Decision:
    route: str
    reason: str


def pair(value: float, bound: float, digits: int = 2) -> tuple[str, str]:
    """Both numbers with the fewest decimals (from ``digits``) that still tell them apart: never "0.45 < 0.45"."""
    while digits < 6 and f"{value:.{digits}f}" == f"{bound:.{digits}f}" and value != bound:
        digits += 1
    return f"{value:.{digits}f}", f"{bound:.{digits}f}"


def question_count(text: str) -> int:
    """Separate asks: question sentences, or one ask plus each 'also'-style join, whichever is more."""
    questions = sum(1 for body, end in SENTENCE.findall(text) if end.startswith("?") and LETTER.search(body))
    return max(questions, 1 + len(JOINS.findall(text)))


def route(s: Signals, config: RoutingConfig = RoutingConfig()) -> Decision:
    decision = decide(s, config)
    if not (config.tightened or config.gated):
        return decision
    # What measured quality changed explains the route when the ticket goes elsewhere than it would have without any of
    # it: each change (a knob moved, its category gated) that alone would have moved it says so.
    untouched = replace(config, gated={}, **{t.knob: t.before for t in config.tightened})  # type: ignore[arg-type]
    base = decide(s, untouched).route
    if base == decision.route:
        return decision
    notes = [t.why for t in config.tightened if decide(s, replace(untouched, **{t.knob: t.after})).route != base]  # type: ignore[arg-type]
    notes += [why for key, why in config.gated.items()
              if key[1] == s.category and why != decision.reason and decide(s, replace(untouched, gated={key: why})).route != base]
    return Decision(decision.route, "; ".join([decision.reason, *notes])) if notes else decision


def decide(s: Signals, config: RoutingConfig) -> Decision:
    if s.safety:
        return Decision(HUMAN, f"safety pre-filter: {s.safety}")
    priority = (s.priority or "").lower()
    if priority in config.realtime_priorities:
        return Decision(REALTIME, f"priority {priority}")
    if s.category in config.realtime_categories:
        return Decision(REALTIME, f"category {s.category} is answered at once")
    if s.passages == 0:
        # A cheap answer with nothing to rest on is a guess; the frontier model may still say no article covers it.
        return Decision(FRONTIER, "no knowledge-base passage above the retrieval floor")
    if s.nearest_known < config.ood_similarity:
        # Checked before the cache: an answer to something else is worse than no answer.
        return Decision(FRONTIER, "out of distribution: nearest known ticket {} < {}".format(*pair(s.nearest_known, config.ood_similarity)))
    # Before the cache: a cached answer answers one question, not this one and another.
    if s.questions > config.max_small_questions:
        return Decision(FRONTIER, f"{s.questions} questions in one ticket")
    if (s.cache_similarity is not None and s.cache_similarity >= config.cache_threshold and s.cache_category == s.category
            and (CACHE, s.category) not in config.gated):
        probe = "; entry on probation: judged before it is given" if s.cache_probe else ""
        return Decision(CACHE, "cache hit {} >= {}, same category".format(*pair(s.cache_similarity, config.cache_threshold, 3)) + probe)
    if s.tokens > config.max_small_tokens:
        return Decision(FRONTIER, f"long ticket: {s.tokens} tokens > {config.max_small_tokens}")
    if s.confidence < config.min_confidence:
        return Decision(FRONTIER, "low confidence {} < {} for {}".format(*pair(s.confidence, config.min_confidence), s.category))
    if gate := config.gated.get((SMALL, s.category)):
        return Decision(FRONTIER, gate)
    return Decision(SMALL, f"confident {s.confidence:.2f} {s.category}, short single question")


def cap_realtime(decisions: list[Decision], given_priority: list[bool], cap: float) -> list[Decision]:
    """At most ``cap`` of the day's tickets (at least one) go realtime: those with a priority of their own first, then in
    order; the rest go to the frontier batch, and their reason says why."""
    limit = max(1, int(cap * len(decisions)))
    realtime = [i for i, d in enumerate(decisions) if d.route == REALTIME]
    keep = set(sorted(realtime, key=lambda i: not given_priority[i])[:limit])
    return [d if d.route != REALTIME or i in keep else
            Decision(FRONTIER, f"{d.reason}; realtime cap reached ({limit} of {len(decisions)} tickets): in tonight's frontier batch")
            for i, d in enumerate(decisions)]
