"""Generate realistic sample support tickets into a landing zone (for the demo and the tests).

Deterministic for a seed and a day: intents with several paraphrases each (so the semantic cache has
real repeats to find), priorities, a few urgent outages, PII to redact, and a handful of malformed
rows of every kind the ingest must quarantine. Days rotate through CSV, JSONL and Parquet.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("id", "subject", "body", "created_at", "customer", "channel", "label", "priority")
FORMATS = ("csv", "jsonl", "parquet")

# intent -> (category, default priority, subjects, bodies). {order}, {product}, {amount}, {days}
# and {pii} are filled per ticket; paraphrases of one intent are what a cache should match.
INTENTS: dict[str, tuple[str, str, list[str], list[str]]] = {
    "cancel_order": ("order", "normal", ["Cancel my order", "Order cancellation", "Please cancel"], [
        "Hi, I ordered the {product} by mistake. Can you cancel order {order} before it ships?",
        "I need to cancel order {order}. I found the {product} cheaper elsewhere.",
        "How do I cancel an order I placed yesterday? The number is {order}.",
        "Please stop order {order}, I no longer need the {product}.",
    ]),
    "track_order": ("shipping", "normal", ["Where is my order?", "Tracking", "Order status"], [
        "My order {order} was supposed to arrive {days} days ago and tracking has not moved.",
        "Can you tell me where my package is? Order {order}, the {product}.",
        "Tracking for {order} says 'label created' since last week. Is it lost?",
        "Still waiting for the {product} (order {order}). When will it be delivered?",
    ]),
    "change_address": ("shipping", "normal", ["Change delivery address", "Wrong address"], [
        "I moved last week. Can you change the shipping address on order {order}?",
        "I typed the wrong street for order {order}, can the courier deliver to my new address?",
        "Is it possible to update the delivery address before {order} ships?",
    ]),
    "refund_status": ("billing", "normal", ["Refund not received", "Where is my refund?"], [
        "I returned the {product} {days} days ago and still have not received my refund of ${amount}.",
        "You confirmed a refund for order {order} but nothing has reached my account yet.",
        "How long does a refund take? I sent back order {order} two weeks ago.",
    ]),
    "double_charge": ("billing", "high", ["Charged twice", "Duplicate payment"], [
        "I was charged twice for order {order}, ${amount} each time. Please refund one. Card {pii}.",
        "My bank statement shows two payments of ${amount} for the same order {order}.",
        "Why did you take the money twice? Order {order}, ${amount}.",
    ]),
    "invoice_request": ("billing", "low", ["Invoice needed", "VAT invoice"], [
        "Could you send me a VAT invoice for order {order}? Company details in my account.",
        "I need an invoice for ${amount} for my expense report, order {order}.",
        "Where can I download the invoice for my last purchase?",
    ]),
    "reset_password": ("account", "normal", ["Can't log in", "Password reset not working"], [
        "The password reset email never arrives. My address is {pii}.",
        "I forgot my password and the reset link says it has expired.",
        "Locked out of my account after too many attempts, how do I get back in?",
        "Reset password link not working, I tried three times today.",
    ]),
    "delete_account": ("account", "normal", ["Delete my account", "Close account"], [
        "Please delete my account and all data you hold about me under GDPR.",
        "How do I close my account permanently? I don't use the service anymore.",
        "I want my account removed. Contact me at {pii} when it's done.",
    ]),
    "update_payment": ("billing", "normal", ["Update card", "Change payment method"], [
        "My card expired. How do I add the new one, {pii}?",
        "I want to pay by bank transfer from now on, IBAN {pii}.",
        "Can I switch my subscription payment to a different card?",
    ]),
    "app_crash": ("technical", "high", ["App crashes", "App keeps closing"], [
        "The app crashes every time I open the orders tab since the last update.",
        "After updating to version 4.2 the app closes immediately on my phone.",
        "Your iOS app freezes and then quits when I try to pay.",
    ]),
    "checkout_error": ("technical", "high", ["Error at checkout", "Payment fails"], [
        "Checkout fails with 'payment declined' although my bank says the card is fine.",
        "I get an error 500 when I press 'place order' with the {product} in my cart.",
        "The checkout page spins forever and never confirms the order.",
    ]),
    "product_question": ("product", "low", ["Question about {product}", "Product info"], [
        "Is the {product} compatible with the older model I bought last year?",
        "What is the warranty on the {product}? The page doesn't say.",
        "Does the {product} come with a charger or do I need to buy one?",
    ]),
    "damaged_item": ("returns", "normal", ["Item arrived damaged", "Broken on arrival"], [
        "The {product} arrived with a cracked screen. Order {order}. I want a replacement.",
        "Box was crushed and the {product} inside is broken. What do I do?",
        "Received order {order} damaged, photos attached. Please advise on a return.",
    ]),
    "return_policy": ("returns", "low", ["Return policy", "Can I return this?"], [
        "Can I return the {product} if I opened the box?",
        "How many days do I have to return an item bought on sale?",
        "What is your return policy for the {product}?",
    ]),
    "subscription_cancel": ("subscription", "normal", ["Cancel subscription", "Stop renewal"], [
        "Please cancel my subscription before it renews next week.",
        "I don't want the yearly plan to renew, how do I turn off auto-renewal?",
        "Stop charging me for the premium plan, I cancelled last month. Phone {pii}.",
    ]),
}
# Urgent tickets: outages and fraud, which the router answers at once.
URGENT: list[tuple[str, str, str]] = [
    ("outage", "Site down for all our users", "URGENT: nobody in our company can log in since 09:00, production is blocked. Call me on {pii}."),
    ("fraud", "Fraudulent charges on my account",
     "Someone used my account to place orders I did not make, ${amount} so far. Block it now, card {pii}."),
    ("outage", "API returns 503 for every request",
     "Our integration has been getting 503 from your API for an hour, this is costing us sales. Please escalate."),
]
PRODUCTS = ("wireless headphones", "smart watch", "coffee grinder", "4K monitor", "running shoes", "robot vacuum", "e-reader")
CHANNELS = ("email", "web", "chat", "phone")
FIRST_NAMES = ("ana", "ben", "chloe", "dev", "emma", "femi", "gus", "hana", "ivan", "jo")


@dataclass(frozen=True)
class SampleSpec:
    tickets_per_day: int = 150
    seed: int = 7
    with_malformed: bool = True


def _pii(rng: random.Random, intent: str) -> str:
    if intent in ("double_charge", "fraud"):
        return rng.choice(["4111 1111 1111 1111", "5500-0000-0000-0004", "4012888888881881"])
    if intent == "update_payment":
        return rng.choice(["4242 4242 4242 4242", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"])
    if intent in ("subscription_cancel", "outage"):
        return rng.choice(["+1 415 555 0132", "(212) 555-0187", "+44 20 7946 0958"])
    return f"{rng.choice(FIRST_NAMES)}.{rng.randint(10, 99)}@example.com"


def _fill(template: str, rng: random.Random, intent: str) -> str:
    return template.format(
        order=f"#{rng.randint(100000, 999999)}", product=rng.choice(PRODUCTS), amount=rng.choice((19, 49, 89, 129, 349)),
        days=rng.randint(3, 21), pii=_pii(rng, intent),
    )


def day_tickets(day: date, spec: SampleSpec = SampleSpec()) -> list[dict]:
    """The well-formed tickets of one day, in arrival order."""
    rng = random.Random(f"{spec.seed}:{day.isoformat()}")
    intents = list(INTENTS)
    weights = [rng.uniform(0.5, 2.0) for _ in intents]  # the mix shifts from day to day
    rows = []
    for i in range(spec.tickets_per_day):
        created = datetime.combine(day, time()) + timedelta(seconds=rng.randint(0, 86_399))
        if i % 50 == 17:
            label, subject, body = rng.choice(URGENT)
            priority = "urgent"
        else:
            label = rng.choices(intents, weights)[0]
            _, priority, subjects, bodies = INTENTS[label]
            subject, body = rng.choice(subjects), rng.choice(bodies)
            if rng.random() < 0.08:  # a few customers ask two things at once
                other = INTENTS[rng.choice(intents)][3]
                body = body + " Also, " + rng.choice(other)[0].lower() + rng.choice(other)[1:]
        rows.append({
            "id": f"T{day:%Y%m%d}-{i:05d}",
            "subject": _fill(subject, rng, label),
            "body": _fill(body, rng, label),
            "created_at": created.isoformat() + "Z",
            "customer": f"C{rng.randint(1000, 9999)}",
            "channel": rng.choice(CHANNELS),
            "label": label,
            "priority": priority,
        })
    return rows


def malformed_rows(day: date, good: list[dict]) -> list[dict]:
    """One row of each kind the ingest must quarantine that every format can carry."""
    base = {"customer": "C0000", "channel": "web", "label": "cancel_order", "priority": "normal"}
    noon = datetime.combine(day, time(12)).isoformat() + "Z"
    return [
        {**base, "id": f"BAD{day:%Y%m%d}-1", "subject": "", "body": "", "created_at": noon},  # missing text
        {**base, "id": f"BAD{day:%Y%m%d}-2", "subject": "Hi", "body": "when?", "created_at": "31/31/2024 99:99"},
        {**base, "id": good[0]["id"], "subject": "Resent", "body": good[0]["body"], "created_at": noon},  # duplicate id
        {**base, "id": f"BAD{day:%Y%m%d}-3", "subject": "Logs", "body": "x" * 25_000, "created_at": noon},  # oversize
        {**base, "id": f"BAD{day:%Y%m%d}-4", "subject": "Late", "body": "Filed in the wrong day folder.",
         "created_at": (datetime.combine(day, time()) - timedelta(minutes=5)).isoformat() + "Z"},
    ]


def write_day(landing: Path, day: date, spec: SampleSpec = SampleSpec()) -> Path:
    """Write one day's sample file into ``landing/<day>/``; returns the file written."""
    rows = day_tickets(day, spec)
    bad = malformed_rows(day, rows) if spec.with_malformed else []
    # Spread the bad rows through the file rather than appending them, as real exports do.
    for offset, row in enumerate(bad):
        rows.insert(min(len(rows), 7 + offset * 23), row)
    fmt = FORMATS[day.toordinal() % len(FORMATS)]
    folder = landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"tickets.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    data = _csv_bytes(rows) if fmt == "csv" else _jsonl_bytes(rows)
    if spec.with_malformed:
        data = data + _unparseable_tail(fmt, day)
    path.write_bytes(data)
    return path


def _csv_bytes(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def _jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _unparseable_tail(fmt: str, day: date) -> bytes:
    """A line that does not parse and a line with bytes that are not UTF-8 beside bytes that are (a damaged UTF-8 file, not
    a Latin-1 one): text formats only."""
    stamp = f"{day.isoformat()}T10:00:00Z"
    if fmt == "csv":
        return (f"BAD{day:%Y%m%d}-5,Extra,fields,{stamp},C1,web,x,normal,surplus\n".encode()
                + f"BAD{day:%Y%m%d}-6,Café ferm".encode() + b"\xe9,Latin-1 bytes,"
                + f"{stamp},C2,email,track_order,low\n".encode())
    return (f'{{"id": "BAD{day:%Y%m%d}-5", "subject": "Truncated", "body": "cut off'.encode() + b"\n"
            + f'{{"id": "BAD{day:%Y%m%d}-6", "subject": "Café ferm'.encode() + b'\xe9", "body": "Latin-1 bytes", '
            + f'"created_at": "{stamp}"}}\n'.encode())


def write_days(landing: Path, start: date, days: int, spec: SampleSpec = SampleSpec()) -> list[Path]:
    return [write_day(landing, start + timedelta(days=i), spec) for i in range(days)]
