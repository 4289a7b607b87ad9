"""PII redaction for text that may leave the machine (embedding APIs, LLM prompts).

Detectors are deliberately conservative where support tickets are full of look-alikes: order and
tracking numbers are long digit runs, so a card number must pass the Luhn check and start with a
card network prefix, an IBAN must pass its mod-97 check, and a phone number must look like one
(a leading + or the usual separators), never a bare run of digits.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
    r"|\d{3}[.-]\d{3}[.-]\d{4})(?!\w)"
)

CARD_PREFIXES = ("4", "34", "37", "51", "52", "53", "54", "55", "6011", "65", "2221", "2720", "35", "36", "30")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and digits.startswith(CARD_PREFIXES) and luhn_ok(digits)


def is_iban(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


@dataclass
class Redacted:
    text: str
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def redact(text: str) -> Redacted:
    """Replace emails, IBANs, payment cards and phone numbers with ``[KIND]`` placeholders."""
    counts: Counter = Counter()

    def sub(pattern: re.Pattern, kind: str, text: str, accept=None) -> str:
        def replace(m: re.Match) -> str:
            if accept is not None and not accept(m.group(0)):
                return m.group(0)
            counts[kind] += 1
            return f"[{kind}]"

        return pattern.sub(replace, text)

    # Order matters: IBANs and cards contain digit runs a phone pattern would also take.
    text = sub(EMAIL, "EMAIL", text)
    text = sub(IBAN, "IBAN", text, is_iban)
    text = sub(CARD, "CARD", text, is_card)
    text = sub(PHONE, "PHONE", text, lambda s: len(re.sub(r"\D", "", s)) >= 9)
    return Redacted(text, counts)
