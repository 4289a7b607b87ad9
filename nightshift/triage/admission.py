"""Which answers may be given to a second customer: the answer cache's admission rules.

An answer written for one ticket enters the cache only if it is about that ticket, carries nothing that identifies
that ticket's customer, and was not written under attack. Each rule gives a reason when it refuses, and every answer's
reasons are recorded, so a refusal can be read back. Refusing costs only the saving a later hit would have made;
admitting a bad answer multiplies it, so every rule refuses when in doubt.

The rules do not know the faults they are meant to stop one by one: they ask what makes an answer reusable at all
(the same category as its ticket, a reply close to the ticket's meaning, no value copied from the ticket, an ordinary
ticket behind it).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nightshift.ingest.encoders import tokenizer_path
from nightshift.ingest.redaction import redact
from nightshift.safety.screening import describe, screen

HELD, JUDGE_REJECTED, CATEGORY, OFF_TOPIC, PERSONAL, UNSAFE, UNUSUAL, STALE, NO_VECTOR = (
    "held", "judge_rejected", "category", "off_topic", "personal_data", "safety", "unusual_ticket", "stale_citation", "no_vector")
REASONS = (HELD, JUDGE_REJECTED, CATEGORY, OFF_TOPIC, PERSONAL, UNSAFE, UNUSUAL, STALE, NO_VECTOR)
# The cache before these rules kept out only what was held, rejected by the judge, or rested on a retired article.
OPEN = (HELD, JUDGE_REJECTED, STALE, NO_VECTOR)

VERIFIED, PROBATION = "verified", "probation"

# Identifier-like values. A number keeps only its digits, so "123-45-6789" in a ticket and "123456789" in a reply meet.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "jane at example dot com", "jane[at]example[dot]com": written so that a filter misses them, read back as addresses.
AT = re.compile(r"\s*[\[(]\s*at\s*[\])]\s*|\s+at\s+(?=[\w-]+\s*(?:[\[(]\s*dot\s*[\])]|\s+dot\s+|\.))", re.IGNORECASE)
DOT = re.compile(r"\s*[\[(]\s*dot\s*[\])]\s*|\s+dot\s+(?=[a-z]{2,}\b)", re.IGNORECASE)
SPACES = re.compile(r"[^\S\n]+")
BREAKS = re.compile(r" ?\n[\s]*")
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
HANDLE = re.compile(r"(?<![\w.])@\w{3,}")
NUMBER = re.compile(r"\d(?:[ \-./,]?\d)*")
# A code: letters and digits mixed (order ids, licence keys), or a long run of key-like characters (API keys, tokens).
# Every pattern here starts only where its run of characters starts: tried from every position of a long run, a
# pattern that scans ahead is quadratic in the run (a 20,000-character ticket may be one).
WORDISH = re.compile(r"(?<![\w-])[A-Za-z0-9][\w-]{4,}")
KEYLIKE = re.compile(r"(?<![A-Za-z0-9_\-+/=])[A-Za-z0-9_\-+/=]{20,}")
DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b|\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# A name is findable where the ticket introduces or signs it, or where a reply greets someone by it; the cue words in
# any case, the name capitalised.
NAME = r"([A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)"
NAME_CUES = (
    re.compile(rf"\b(?i:my name is|name:|this is|i am|i'm)\s+{NAME}"),
    re.compile(rf"\b(?i:regards|thanks|thank you|cheers|best|sincerely|br)\s*[,.!-]?\s*\n?\s*{NAME}\s*$", re.MULTILINE),
    re.compile(rf"\b(?i:mr|mrs|ms|miss|dr|prof|herr|frau|sr|sra|mme|mlle|signor|signora)\.?\s+{NAME}"),
)
GREETING = re.compile(rf"^[^\w\n]{{0,8}}(?i:hi|hello|dear|hey|good morning|good afternoon|good evening|hallo|bonjour|hola|ciao)\s+{NAME}",
                      re.MULTILINE)
# Words a greeting or a cue may be followed by that name nobody.
NOT_NAMES = frozenset({"customer", "there", "team", "sir", "madam", "all", "friend", "valued", "support", "user", "client",
                       "again", "everyone", "folks", "writing", "sorry", "unable", "not", "having", "trying", "looking",
                       "a", "the", "an", "very", "so", "still", "getting", "contacting", "reaching", "asking", "here"})
MIN_DIGITS = 3  # "30 days", "24 hours": two digits are policy, three are more often this customer's own
SUBSCRIBER = 7  # trailing digits that identify a phone number whatever its prefix
MIN_RUN = 5     # characters a reformatted value must keep to count as copied ("AB12 CDE" -> "ab12cde")

# What a reply to one customer must not do for the next: grant something, ask for a secret, or disclose what is not the
# help centre's. A cached reply is general help; these are the marks of one that is not (English only).
COMMITS = re.compile(
    r"\b(?:i(?:'ve| have)|we(?:'ve| have))\s+(?:approved|authori[sz]ed|issued|credited|waived|refunded|upgraded)\b|"
    r"\bas an exception\b|\b(?:refund|credit|exception|replacement)\s+(?:has been|was)\s+(?:approved|authori[sz]ed|granted|issued)\b|"
    r"\b(?:discount|promo|coupon|voucher)\s+code\b|\b\d{1,3}\s?% off\b|\b(?:months?|year) (?:of \w+ )?(?:for )?free\b",
    re.IGNORECASE)
ASKS_SECRET = re.compile(r"\b(?:reply with|send|provide|share|give us|tell us|confirm|include)\b[^.?!]{0,60}"
                         r"\b(?:cvv|cvc|security code|pin|password|passcode|card number|one-time code|verification code|\d-digit code)\b",
                         re.IGNORECASE)
DISCLOSES = re.compile(r"\binternal(?:\s+\w+)?\s+(?:notes?|guidelines|rules|polic(?:y|ies))\b|\bdo not share\b|"
                       r"\b(?:my|system)\s+(?:instructions|prompt)\b|"
                       r"\bfraud score\b|\badmin(?:istrator)?\s+(?:panel|password|console)\b|\bescalation password\b", re.IGNORECASE)

# A ticket that hides something: invisible or direction-changing characters, an encoded blob, markup comments, or
# letters from two scripts in one word. Ordinary customers write none of these; the answer to such a ticket is not reused.
HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
BLOB = re.compile(r"(?<![\w/+=])(?=[A-Za-z0-9+/]*[0-9+/])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{24,}={0,2}")
MARKUP = re.compile(r"<!--|-->|<\s{0,3}/?\s{0,3}(?:script|system|instructions?|prompt)\b|\[//\]:|\{\{|\}\}|"
                    r"^[^\S\n]{0,8}(?:system|assistant)[^\S\n]{0,3}:",
                    re.IGNORECASE | re.MULTILINE)
WORD = re.compile(r"\w{2,}")
# Scripts with letters that pass for Latin ones; mixing kanji and kana in a word is ordinary Japanese.
LOOK_ALIKE = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE"})


@dataclass(frozen=True)
class Candidate:
    """One answer, with what the rules need to know about its ticket."""

    status: str                          # the answer's status in ticket_responses: only ok answers may be cached
    answer: dict                         # the JSON answer (summary, category, draft_reply, citations, ...)
    predicted_category: str              # the triage model's category for the ticket
    ticket_texts: tuple[str, ...]        # the ticket as written (subject, body) and as redacted: what may be copied
    help_text: str = ""                  # the passages it was offered: a value the help centre also gives is nobody's own
    relevance: float | None = None       # cosine similarity of reply and ticket; None: no vector for one of them
    judged: bool | None = None           # the judge's verdict on this answer, when it was sampled
    prefilter: str | None = None         # what the every-ticket safety screen found
    verdict: str | None = None           # the safety classifier's kinds ('' clean, None not asked)
    stale_citation: bool = False         # cites a passage no longer in the knowledge base


@dataclass(frozen=True)
class Reading:
    """What the rules that read the texts found: the slow part of admission, and the same whatever the day's floor, so
    it can be read a chunk of answers at a time, before the floor is known."""

    personal: tuple[str, ...] = ()       # kinds of personal data the reply carries
    unusual: str | None = None           # what the ticket hides
    not_general: tuple[str, ...] = ()    # what makes the reply one customer's


def read(c: Candidate) -> Reading:
    reply = reply_text(c.answer)
    return Reading(tuple(personal_data(reply, c.ticket_texts, c.help_text)), hiding(" ".join(c.ticket_texts)),
                   tuple(not_general(reply, c.help_text)))


def reasons(c: Candidate, floor: float, reading: Reading | None = None) -> list[str]:
    """Why the answer may not be served to anyone else (empty: it may), each as ``kind: particulars``; ``reading`` is
    ``read(c)`` when it was read already."""
    reading = reading or read(c)
    found: list[str] = []
    if c.status != "ok":
        found.append(f"{HELD}: status {c.status}")
    if c.judged is False:
        found.append(f"{JUDGE_REJECTED}: the judge found it wrong")
    category = str(c.answer.get("category") or "")
    if category.strip().lower() != c.predicted_category.strip().lower():
        found.append(f"{CATEGORY}: the answer says {category[:40]!r}, the ticket was triaged {c.predicted_category!r}")
    if c.relevance is None:
        found.append(f"{NO_VECTOR}: no vector to compare the reply with its ticket")
    elif c.relevance < floor:
        found.append(f"{OFF_TOPIC}: reply-ticket similarity {c.relevance:.2f} < floor {floor:.2f}")
    found += [f"{PERSONAL}: {kind}" for kind in reading.personal]
    if c.prefilter or c.verdict:
        found.append(f"{UNSAFE}: the ticket was flagged ({c.prefilter or c.verdict})")
    if reading.unusual:
        found.append(f"{UNUSUAL}: {reading.unusual}")
    found += [f"{UNSAFE}: the reply {what}" for what in reading.not_general]
    if c.stale_citation:
        found.append(f"{STALE}: it cites a passage no longer in the knowledge base")
    return found


def not_general(reply: str, help_text: str) -> list[str]:
    """What makes a reply one customer's rather than general help: it obeys an instruction, grants something, asks for
    a secret, discloses what is not the help centre's, or points somewhere the help centre does not."""
    found = []
    if obeyed := describe(screen(reply)):
        found.append(f"reads {obeyed}")
    # A help centre may offer a code or an exception itself; it never asks for a secret or discloses one.
    if COMMITS.search(reply) and not COMMITS.search(help_text):
        found.append("grants something")
    found += [what for what, pattern in (("asks for a secret", ASKS_SECRET), ("discloses internal matters", DISCLOSES)) if pattern.search(reply)]
    given = {key(v) for v in values(help_text)}
    if any(key(v) not in given for v in values(reply) if EMAIL.fullmatch(v) or URL.match(v)):
        found.append("gives a link or address the help centre does not")
    return found


def reply_text(answer: dict) -> str:
    """What another customer would read: the reply and the summary shown beside it."""
    return "\n".join(str(answer.get(field) or "") for field in ("draft_reply", "summary"))


def plain(text: str) -> str:
    """NFKC, with runs of spaces made one space and runs of blank lines one line break (a long run of whitespace would
    make the patterns that allow some slow), and obfuscated e-mail addresses written out."""
    text = SPACES.sub(" ", unicodedata.normalize("NFKC", text))
    return DOT.sub(".", AT.sub("@", BREAKS.sub("\n", text)))


def values(text: str) -> list[str]:
    """Identifier-like values in ``text`` as written: e-mail addresses, links, handles, codes, numbers of three digits
    or more."""
    text = plain(text)
    found = [m.group(0) for pattern in (EMAIL, URL, HANDLE, KEYLIKE) for m in pattern.finditer(text)]
    found += [w for w in WORDISH.findall(text) if any(ch.isdigit() for ch in w) and re.search("[A-Za-z]", w)]
    return found + [m.group(0) for m in NUMBER.finditer(text) if len(re.sub(r"\D", "", m.group(0))) >= MIN_DIGITS]


def key(value: str) -> str:
    """A value as compared: a number by its digits, anything else lower-cased."""
    digits = re.sub(r"\D", "", value)
    return digits if NUMBER.fullmatch(value) else value.lower()


def collapsed(text: str) -> str:
    """Letters and digits only, lower-cased: a value survives any re-spacing or re-punctuation in this form."""
    return "".join(TOKEN.findall(plain(text).lower()))


def dates(text: str) -> set[tuple[int, int, int]]:
    """Dates written with digits, as (year, month, day), read both day-first and month-first."""
    found = set()
    for m in DATE.finditer(text):
        year, first, second = (int(g) for g in (m.group(1), m.group(2), m.group(3))) if m.group(1) else \
            (int(m.group(6)), int(m.group(4)), int(m.group(5)))
        found |= {(year, first, second), (year, second, first)}
    return found


def identifiers(text: str) -> set[str]:
    """Identifier-like values in ``text`` as comparable keys, and the names it introduces or signs with (lower-cased)."""
    names = {name.lower() for cue in NAME_CUES for m in cue.finditer(plain(text)) for name in names_in(m.group(1))}
    return {key(v) for v in values(text)} | names


def names_in(found: str) -> list[str]:
    return [word for word in found.split() if word.lower() not in NOT_NAMES]


def personal_data(reply: str, ticket_texts: Iterable[str], help_text: str = "") -> list[str]:
    """Kinds of personal data in a reply: what the redaction detectors find, values copied from its ticket however they
    are re-spaced, dates of the ticket however they are written, its rare capitalised words (names), and a greeting by
    name. A value the help centre gives too (a support line, a policy's number) is nobody's own. Kinds only: the values
    themselves are never written down."""
    tickets = [plain(t) for t in ticket_texts]
    own = plain(reply)
    for value in sorted(values(help_text), key=len, reverse=True):
        own = re.sub(rf"(?<!\w){re.escape(plain(value))}(?!\w)", " ", own)
    kinds = [f"{kind} found" for kind in sorted(redact(own).counts)]
    ticket = set().union(*(identifiers(t) for t in tickets)) if tickets else set()
    runs = [collapsed(t) for t in tickets]
    said = {key(v) for v in values(own)} | {w for w in ticket if w.isalpha() and w in set(TOKEN.findall(own.lower()))}
    copied = {kind_of(k) for k in said if copied_from(k, ticket)}
    if not copied and any(run in whole for run in spans(own) for whole in runs):
        copied.add("a value")
    if dates(own) & set().union(*(dates(t) for t in tickets)) if tickets else False:
        copied.add("a date")
    if rare_names(own, tickets, help_text):
        copied.add("a name")
    kinds += [f"{kind} copied from the ticket" for kind in sorted(copied)]
    if any(names_in(m.group(1)) for m in GREETING.finditer(own)):
        kinds.append("a customer greeted by name")
    return kinds


def spans(text: str) -> Iterator[str]:
    """Runs of one to three adjacent tokens, collapsed, that look like a value: three digits, or letters and a digit."""
    tokens = TOKEN.findall(text.lower())
    for size in (1, 2, 3):
        for i in range(len(tokens) - size + 1):
            run = "".join(tokens[i:i + size])
            digits = sum(ch.isdigit() for ch in run)
            if len(run) >= MIN_RUN and (digits >= MIN_DIGITS or (digits and any(ch.isalpha() for ch in run))):
                yield run


def rare_names(reply: str, tickets: Sequence[str], help_text: str) -> bool:
    """A word the reply shares with its ticket that is capitalised where it is not a sentence's first, that the help
    centre does not use, and that the embedding model's vocabulary does not hold as a word: a name, almost always."""
    shared = {w.lower() for w in TOKEN.findall(reply)} & {w.lower() for t in tickets for w in TOKEN.findall(t)}
    common = vocabulary() | {w.lower() for w in TOKEN.findall(help_text)}
    capitalised = {m.group(1).lower() for text in (reply, *tickets) for m in MID_SENTENCE_CAPITAL.finditer(text)}
    return any(w in capitalised and w not in common and len(w) > 2 and w.isalpha() for w in shared)


MID_SENTENCE_CAPITAL = re.compile(r"(?<![.!?:\n]\s)(?<![.!?:\n])(?<=\s)([A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]+)")


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The whole words of the embedding model's (uncased) WordPiece vocabulary: English words and the commonest names."""
    vocab = json.loads(tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if w.isalpha() and not w.startswith("##"))


def copied_from(key: str, ticket: set[str]) -> bool:
    """A reply's value is the ticket's when the ticket has it, has it inside a longer value (the last digits of an
    account number, a key's prefix), or ends in the same seven digits (a phone number with or without its country code)."""
    if key in ticket or any(key in value for value in ticket if len(key) >= (4 if key.isdigit() else 6)):
        return True
    return key.isdigit() and len(key) >= SUBSCRIBER and any(v.isdigit() and v[-SUBSCRIBER:] == key[-SUBSCRIBER:] for v in ticket)


def kind_of(key: str) -> str:
    if "@" in key:
        return "an e-mail address"
    if key.startswith(("http", "www.")):
        return "a link"
    if key.isdigit():
        return "a number"
    if key.startswith("@"):
        return "a handle"
    if key.isalpha():
        return "a name"
    return "a code"


def hiding(text: str) -> str | None:
    """What in a ticket hides content from a reader, if anything."""
    if HIDDEN.search(text):
        return "invisible or bidirectional control characters"
    if BLOB.search(text):
        return "an encoded blob"
    if MARKUP.search(text):
        return "markup or role markers"
    for word in WORD.findall(unicodedata.normalize("NFKC", text)):
        if len(scripts(word) & LOOK_ALIKE) > 1:
            return "Latin letters mixed with look-alikes of another script in one word"
    return None


def scripts(word: str) -> set[str]:
    """The scripts of a word's letters, by the first word of their Unicode names (LATIN, CYRILLIC, GREEK, ...)."""
    return {unicodedata.name(ch, "?").split()[0] for ch in word if ch.isalpha()}


def trust(route: str, judged: bool | None, small_model_trusted: bool) -> str:
    """A new entry's standing. A frontier (or realtime) answer is what the cache stands in for, so it may serve at once.
    A small-model answer serves at once only when a judge agreed with it, or when the small model's measured wrong rate
    is within the error bound; otherwise it is on probation until a judged serve vouches for it."""
    if route in ("frontier", "realtime", "shadow") or judged or small_model_trusted:
        return VERIFIED
    return PROBATION


@dataclass(frozen=True)
class Floor:
    value: float
    source: str                          # "calibrated" or "default"
    answers: int                         # frontier answers it was calibrated on
    pass_own: float | None               # share of those answers at or above it
    pass_others: float | None            # share of replies paired with another ticket at or above it: off-topic passes


def relevance_floor(own: Sequence[float] | np.ndarray, others: Sequence[float] | np.ndarray, default: float, quantile: float = 0.02,
                    minimum: int = 30, lowest: float = 0.2, highest: float = 0.6) -> Floor:
    """The reply-ticket similarity under which a reply is off-topic, from frontier answers: the ``quantile`` of their own
    similarities, so that share of good answers is refused, kept within [lowest, highest] so a strange night cannot
    make it useless or refuse everything. With fewer than ``minimum`` answers, ``default``. ``others``: the same replies
    paired with other tickets, to show how many off-topic replies the floor lets through."""
    own_a, others_a = np.asarray(own, dtype=float), np.asarray(others, dtype=float)
    if len(own_a) >= minimum:
        value, source = float(min(highest, max(lowest, np.quantile(own_a, quantile)))), "calibrated"
    else:
        value, source = default, "default"
    share = lambda values: float((values >= value).mean()) if len(values) else None  # noqa: E731
    return Floor(round(value, 4), source, len(own_a), share(own_a), share(others_a))
