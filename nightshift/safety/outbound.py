"""What may go out: the safety classifier's verdict on the ticket, and the reply policy on what a reply may say.

nightshift only drafts text, so no route can change an account, and a promise of money binds the
company: a reply that claims an account change, or promises a refund or credit above the policy
amount (or any amount, from a route not trusted with money), is held for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# "we will refund you", "I have issued a full refund", "your refund has been approved": money promised, not explained.
MONEY_PROMISE = re.compile(
    r"\b(we|i)('ll| will| have|'ve| already| are going to| can)\s+(\w+\s+){0,2}"
    r"(refund|credit|reimburs|compensat|pay you|issued? (you )?(a |an |the )?(full |partial )?(refund|credit|voucher))\w*"
    r"|\b(refund|credit|compensation|reimbursement|voucher)\b[^.!?]{0,40}\b(has|have) been (issued|processed|approved|sent|applied)\b",
    re.I,
)
AMOUNT = re.compile(r"(?:[$€£]\s?(\d[\d,]*(?:\.\d+)?))|(?:\b(\d[\d,]*(?:\.\d+)?)\s?(?:usd|eur|gbp|dollars?|euros?|pounds?)\b)", re.I)
ACCOUNT_CHANGE = re.compile(
    r"\b(i|we)('ve| have| already)?\s+(deleted|closed|cancell?ed|changed|updated|reset|upgraded|downgraded|unlocked|removed|"
    r"reactivated|transferred|merged)\s+(your|the customer's)\s+(account|password|e-?mail|subscription|plan|address|payment method|card|"
    r"username|phone number|order)\b"
    r"|\byour\s+(account|password|e-?mail|subscription|plan|address|payment method|username|phone number)\s+(has|have)\s+been\s+"
    r"(deleted|closed|cancell?ed|changed|updated|reset|upgraded|downgraded|unlocked|removed|reactivated|transferred|merged)\b",
    re.I,
)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


@dataclass(frozen=True)
class ReplyPolicy:
    max_refund: float = 50.0                   # the most a reply may promise, in the reply's currency
    money_routes: frozenset[str] = field(default_factory=lambda: frozenset({"frontier", "realtime"}))


def amounts(sentence: str) -> list[float]:
    return [float((m.group(1) or m.group(2)).replace(",", "")) for m in AMOUNT.finditer(sentence)]


def violations(reply: str, route: str, policy: ReplyPolicy = ReplyPolicy()) -> list[str]:
    """Why this reply may not go out on this route; empty when it may."""
    found = []
    if m := ACCOUNT_CHANGE.search(reply):
        found.append(f'claims an account change ("{" ".join(m.group(0).split())}")')
    promised = [s for s in SENTENCE.findall(reply) if MONEY_PROMISE.search(s)]
    over = [a for s in promised for a in amounts(s) if a > policy.max_refund]
    if over:
        found.append(f"promises {max(over):g} in money, above the policy's {policy.max_refund:g}")
    elif promised and route not in policy.money_routes:
        found.append(f"promises money on the {route} route, which may not")
    return found


def hold_reason(verdict: str | None, reply: str, route: str, policy: ReplyPolicy = ReplyPolicy()) -> str | None:
    """Why a drafted reply is held for a person: the classifier flagged its ticket (``verdict``: the kinds it found,
    comma-separated) or the reply breaks the policy; None when it may go out."""
    if verdict:
        return f"safety classifier: {verdict}"
    broken = violations(reply, route, policy)
    return f"reply policy: {'; '.join(broken)}" if broken else None
