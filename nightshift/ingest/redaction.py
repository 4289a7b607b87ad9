"""PII redaction for text that may leave the machine (embedding APIs, LLM prompts).

Support tickets are full of look-alikes (order and tracking numbers, amounts, versions, ports), so
every detector pairs a shape with a test the shape alone cannot pass: a checksum where the
identifier has one (cards: Luhn; IBANs: mod 97; most national ids: their own check digits, from
python-stdnum), a parse where it has a grammar (phone numbers: Google's libphonenumber through
phonenumbers, valid for a region; IP addresses: the standard library), and a context word where it
has neither (a bare run of digits is a phone number only next to "call", "phone", ...).

Names, postal addresses and dates of birth are not detected: they need a named-entity model, which
this module deliberately does without (see the README, "Bad input and hostile tickets").
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.us import ssn

# Regions whose national phone formats are recognised; +country numbers are recognised from anywhere,
# and GB's "00" international prefix is shared by most of the world, so 0049-30-... is found too.
PHONE_REGIONS = ("US", "GB", "DE", "FR")
PHONE_CONTEXT = re.compile(r"\b(call|phone|tel|mobile|cell|whatsapp|sms|fax)\b", re.IGNORECASE)
JOINERS = set("./_-=:&#")  # between two word characters they make one token: "v1.2", "a_b", "id=7"
PHONE_MIN_DIGITS = 8  # shorter valid numbers (German 6-digit ones) are mostly version ranges: "3.3.9-3.4.1"
# libphonenumber's matcher allows at most 4 punctuation marks between digit blocks, so no number it can accept with
# PHONE_MIN_DIGITS digits lacks this shape: text without it (most paragraphs) skips the matcher, the slowest detector.
PHONE_SHAPE = re.compile(rf"\d(?:\D{{0,6}}\d){{{PHONE_MIN_DIGITS - 1}}}")
# A dotted quad right after these words is a release, not a host: "bump snappy-java to 1.1.8.2".
VERSION_CONTEXT = re.compile(r"\b(version|release|upgrad\w*|bump\w*|updat\w*|build|downgrad\w*|jdk|java)\b", re.IGNORECASE)

CARD_PREFIXES = ("4", "34", "37", "51", "52", "53", "54", "55", "6011", "65", "2221", "2720", "35", "36", "30")
# UK National Insurance prefixes that are never issued.
NINO_NEVER = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def is_card(candidate: str) -> bool:
    number = digits(candidate)
    return 13 <= len(number) <= 19 and number.startswith(CARD_PREFIXES) and luhn.is_valid(number)


def is_iban(candidate: str) -> bool:
    return iban.is_valid(candidate)


def is_ip(candidate: str) -> bool:
    """A valid IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def is_nino(candidate: str) -> bool:
    return candidate[:2].upper() not in NINO_NEVER


@dataclass(frozen=True)
class Detector:
    kind: str                                   # the placeholder: [KIND]
    pattern: re.Pattern
    accept: Callable[[str], bool] | None = None  # the test the shape alone cannot pass
    group: int = 0                              # the part of the match that is replaced (a secret's value, not its label)
    context: re.Pattern | None = None           # words that, shortly before, make the shape something else


def d(kind: str, pattern: str, accept: Callable[[str], bool] | None = None, flags: int = 0, group: int = 0,
      context: re.Pattern | None = None) -> Detector:
    return Detector(kind, re.compile(pattern, flags), accept, group, context)


# Order matters: a longer identifier is replaced before a shorter one could take part of it.
DETECTORS = (
    d("SECRET", r"\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}"
                r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
    d("SECRET", r"\b(?:password|passwd|passcode|pin|api[ _-]?key|secret|token)\s*[:=]\s*(\S+)", flags=re.IGNORECASE, group=1),
    d("EMAIL", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    d("IBAN", r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", is_iban),
    d("CARD", r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])", is_card),
    d("NIR", r"(?<!\d)(?<!\d )[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?! ?\d)", nir.is_valid),
    d("AADHAAR", r"(?<!\d)(?<!\d )[2-9]\d{3} \d{4} \d{4}(?! ?\d)", aadhaar.is_valid),
    d("CPF", r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)", cpf.is_valid),
    d("SSN", r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])", ssn.is_valid),
    d("SIN", r"(?<![\d-])\d{3}([- ])\d{3}\1\d{3}(?![\d-])", sin.is_valid),
    d("DNI", r"\b(?:\d{8}-?[A-Z]|[XYZ]-?\d{7}-?[A-Z])\b", lambda s: dni.is_valid(s) or nie.is_valid(s)),
    d("CODICE_FISCALE", r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b", codicefiscale.is_valid),
    d("NINO", r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", is_nino),
    d("MAC", r"(?<![\w:-])(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"),
    # Not after a letter or a dot: "v1.2.3.4" and "3.4.0.1.2" are versions.
    d("IP", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)", is_ip, context=VERSION_CONTEXT),
    d("IP", r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,7}|[0-9A-Fa-f]{1,4})(?![\w:])", is_ip),
)
# After the phone pass: an NHS number has the shape of a US phone number, and a valid phone is a phone.
AFTER_PHONES = (d("NHS", r"(?<![\d-])\d{3}([- ])\d{3}\1\d{4}(?![\d-])", nhs.is_valid),)


@dataclass
class Redacted:
    text: str
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def redact(text: str, phone_regions: Iterable[str] = PHONE_REGIONS) -> Redacted:
    """Replace each detected identifier with a ``[KIND]`` placeholder, and count them by kind."""
    counts: Counter = Counter()
    for detector in DETECTORS:
        text = _apply(detector, text, counts)
    text = _redact_phones(text, tuple(phone_regions), counts)
    for detector in AFTER_PHONES:
        text = _apply(detector, text, counts)
    return Redacted(text, counts)


def scan(texts: Mapping[str, str], phone_regions: Iterable[str] = PHONE_REGIONS) -> dict[str, Counter]:
    """Per key, what ``redact`` would find in its text, each distinct paragraph scanned once.

    A day's requests repeat the same instructions and help-centre passages thousands of times; only the ticket in each
    is new. No identifier spans a blank line, so counting paragraph by paragraph finds what scanning whole texts finds.
    """
    regions = tuple(phone_regions)
    seen: dict[str, Counter] = {}
    found = {}
    for key, text in texts.items():
        total: Counter = Counter()
        for paragraph in text.split("\n\n"):
            if paragraph not in seen:
                seen[paragraph] = redact(paragraph, regions).counts
            total += seen[paragraph]
        found[key] = total
    return found


def _apply(detector: Detector, text: str, counts: Counter) -> str:
    def replace(m: re.Match) -> str:
        found = m.group(detector.group)
        if detector.accept is not None and not detector.accept(found):
            return m.group(0)
        if detector.context is not None and detector.context.search(m.string[max(0, m.start() - 60):m.start()]):
            return m.group(0)
        counts[detector.kind] += 1
        start, end = m.start(detector.group) - m.start(), m.end(detector.group) - m.start()
        return f"{m.group(0)[:start]}[{detector.kind}]{m.group(0)[end:]}"

    return detector.pattern.sub(replace, text)


def _redact_phones(text: str, regions: tuple[str, ...], counts: Counter) -> str:
    if not PHONE_SHAPE.search(text):
        return text
    for region in regions:
        spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
                 if _looks_like_phone(text, m.start, m.end)]
        for start, end in reversed(spans):
            text = f"{text[:start]}[PHONE]{text[end:]}"
        counts["PHONE"] += len(spans)
    if not counts["PHONE"]:
        del counts["PHONE"]
    return text


def _joined(text: str, i: int, away: int) -> bool:
    """Whether the character at ``i``, beside a number, makes it part of a longer token; a full stop or colon that ends
    a sentence or clause ("call +1 415 555 2671.") does not."""
    if not 0 <= i < len(text):
        return False
    beyond = text[i + away] if 0 <= i + away < len(text) else ""
    return text[i].isalnum() or text[i] == "_" or (text[i] in JOINERS and (beyond.isalnum() or beyond == "_"))


def _looks_like_phone(text: str, start: int, end: int) -> bool:
    """Written like a phone number (a +, separators), standing alone, or a bare digit run right after a phone word."""
    raw = text[start:end]
    if len(digits(raw)) < PHONE_MIN_DIGITS or _joined(text, start - 1, -1) or _joined(text, end, 1):
        return False  # part of a longer token: a URL, a file name, a timestamp
    if not raw.strip("()").isdigit():
        return True
    return bool(PHONE_CONTEXT.search(text[max(0, start - 25):start]))
