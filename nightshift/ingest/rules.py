"""Turn raw landing records into tickets or quarantine rows, each with a reason.

Reasons read ``kind: particulars`` ("bad created_at: unrecognised date '31/31'"), so the kind is
what precedes the first colon, in Python or in SQL (``split_part(reason, ':', 1)``).

The rules of a good ticket live here and nowhere else; the asset only moves the results into DuckDB.
Invariant: every record read becomes exactly one ticket or one quarantine row.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from nightshift.ingest.files import RawFile, RawRecord
from nightshift.ingest.mapping import MappingError, resolve
from nightshift.ingest.redaction import PHONE_REGIONS, redact

# Formats seen in real exports when a value is not ISO 8601 (Jira's is the first).
KNOWN_DATE_FORMATS = ("%d/%b/%y %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S")


@dataclass(frozen=True)
class Rules:
    max_text_chars: int = 20_000
    created_at_format: str | None = None
    phone_regions: tuple[str, ...] = PHONE_REGIONS
    keep_quarantine_raw: bool = False  # a quarantined record's raw text as read; by default it is redacted


@dataclass
class DayBatch:
    day: date
    tickets: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    redactions: Counter = field(default_factory=Counter)
    read_as: dict[str, str] = field(default_factory=dict)  # file → how it was read (format, encoding, delimiter, gzip)

    @property
    def rows_in(self) -> int:
        return len(self.tickets) + len(self.quarantine)

    def reject(self, file: str, record: RawRecord, reason: str, rules: Rules | None = None) -> None:
        rules = rules or Rules()
        raw = record.raw if rules.keep_quarantine_raw or not record.raw else redact(record.raw, rules.phone_regions).text
        self.quarantine.append(
            {"day": self.day, "source_file": file, "source_line": record.line, "reason": reason, "raw": raw}
        )


def clean(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def parse_created_at(value: Any, fmt: str | None) -> datetime:
    """A timestamp as naive UTC; naive inputs are taken to be UTC already."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        text = clean(value)
        if text is None:
            raise ValueError("empty created_at")
        if fmt:
            parsed = datetime.strptime(text, fmt)
        elif text.isdigit():
            parsed = datetime.fromtimestamp(int(text), tz=UTC)
        else:
            parsed = _parse_known(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _parse_known(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in KNOWN_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"unrecognised date {text!r}")


def stable_id(file: str, line: int | None, text: str) -> str:
    """An id for sources without one: the same file, line and text always give the same id."""
    return "t_" + hashlib.sha1(f"{file}:{line}:{text}".encode()).hexdigest()[:16]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def normalize_day(
    files: Iterable[RawFile], day: date, mapping: Mapping[str, str], rules: Rules = Rules()
) -> DayBatch:
    batch = DayBatch(day)
    first_seen: dict[str, str] = {}
    file_error: str | None
    for raw_file in files:
        if raw_file.read_as:
            batch.read_as[raw_file.path] = raw_file.read_as
        try:
            columns = resolve(mapping, raw_file.columns) if raw_file.columns else {}
        except MappingError as exc:
            columns, file_error = {}, f"mapping: {exc}"
        else:
            file_error = None
        for record in raw_file.records:
            outcome = record.error or file_error or _ticket(day, raw_file.path, record, columns, rules, first_seen)
            if isinstance(outcome, str):
                batch.reject(raw_file.path, record, outcome, rules)
            else:
                batch.tickets.append(outcome)
                batch.redactions.update(outcome.pop("redaction_counts"))
    return batch


def _ticket(day: date, file: str, record: RawRecord, columns: dict[str, str], rules: Rules, first_seen: dict) -> dict | str:
    """The record as a ticket row, or the reason it cannot be one."""
    fields = record.fields or {}
    get = lambda name: clean(fields.get(columns[name])) if name in columns else None  # noqa: E731
    subject, body = get("subject"), get("text")
    if not subject and not body:
        return "missing text"
    full = "\n\n".join(part for part in (subject, body) if part)
    if len(full) > rules.max_text_chars:
        return f"text over size limit: {len(full)} chars, limit {rules.max_text_chars}"

    if "created_at" in columns:
        try:
            created = parse_created_at(fields.get(columns["created_at"]), rules.created_at_format)
        except (ValueError, OverflowError, OSError) as exc:
            return f"bad created_at: {exc}"
        if created.date() != day:
            # Never silently re-file: the operator decides where a misplaced ticket belongs.
            return f"created on another day: {created.date()}, partition {day}"
    else:
        created = datetime.combine(day, time())

    if "id" in columns:
        ticket_id = get("id")
        if ticket_id is None:
            return "missing id"
    else:
        ticket_id = stable_id(file, record.line, full)
    where = f"{file}:{record.line}"
    if ticket_id in first_seen:
        return f"duplicate id: {ticket_id!r}, first seen at {first_seen[ticket_id]}"
    first_seen[ticket_id] = where

    redacted = redact(full, rules.phone_regions)
    return {
        "ticket_id": ticket_id,
        "day": day,
        "created_at": created,
        "subject": subject,
        "body": body,
        "text_redacted": redacted.text,
        "text_hash": text_hash(redacted.text),
        "redactions": redacted.total,
        "customer": get("customer"),
        "channel": get("channel"),
        "label": get("label"),
        "priority": get("priority"),
        "source_file": file,
        "source_line": record.line,
        "redaction_counts": redacted.counts,
    }


def reason_kind(reason: str) -> str:
    """The reason without its particulars, for counting ('bad created_at: ...' -> 'bad created_at')."""
    return reason.split(":", 1)[0]


def quarantine_ids_stored_elsewhere(batch: DayBatch, stored: Mapping[str, date]) -> None:
    """Move tickets whose id is already stored under another day to quarantine."""
    keep = []
    for ticket in batch.tickets:
        other = stored.get(ticket["ticket_id"])
        if other is None or other == batch.day:
            keep.append(ticket)
        else:
            batch.quarantine.append(
                {
                    "day": batch.day,
                    "source_file": ticket["source_file"],
                    "source_line": ticket["source_line"],
                    "reason": f"duplicate id: {ticket['ticket_id']!r}, already stored for {other}",
                    "raw": ticket["text_redacted"][:2000],
                }
            )
    batch.tickets = keep
