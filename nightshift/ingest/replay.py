"""Replay any CSV into the landing zone, spread over day folders (demos and benchmarks).

Rows are written in canonical column names, so the ingest needs no mapping afterwards. A file
without ids gets stable ones; with ``days`` every row gets a creation time in those days (row order
decides the day, a hash of the row the time of day); without it, rows go to the day they were created.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from nightshift.ingest.files import csv_records
from nightshift.ingest.mapping import FIELDS, resolve
from nightshift.ingest.rules import clean, parse_created_at, stable_id


@dataclass
class ReplayResult:
    rows: int = 0
    unreadable: int = 0
    undated: int = 0
    files: dict[str, int] = field(default_factory=dict)  # file written -> rows in it


def replay_csv(
    source: Path,
    landing: Path,
    mapping: dict[str, str],
    days: int | None = None,
    start: date | None = None,
    created_at_format: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    columns, records = csv_records(source.read_bytes())
    resolved = resolve(mapping, columns)
    if days is None and "created_at" not in resolved:
        raise ValueError(f"{source.name} has no created_at column: give --days N to spread it over N days")
    if days is not None and (days < 1 or start is None):
        raise ValueError("--days must be at least 1 and needs --start")
    result = ReplayResult()
    by_day: dict[date, list[dict]] = {}
    readable = [r for r in records if r.fields is not None]
    result.unreadable = len(records) - len(readable)
    for i, record in enumerate(readable):
        row = {name: clean((record.fields or {}).get(col)) for name, col in resolved.items()}
        text = "\n\n".join(v for v in (row.get("subject"), row.get("text")) if v)
        ticket_id = row.get("id") or stable_id(source.name, record.line, text)
        row["id"] = ticket_id
        if days is not None and start is not None:
            day = start + timedelta(days=i * days // len(readable))
            seconds = int(hashlib.sha1(ticket_id.encode()).hexdigest(), 16) % 86_400
            row["created_at"] = (datetime.combine(day, time()) + timedelta(seconds=seconds)).isoformat() + "Z"
        else:
            try:
                created = parse_created_at(row.get("created_at"), created_at_format)
            except (ValueError, OverflowError, OSError):
                result.undated += 1
                continue
            day = created.date()
            row["created_at"] = created.isoformat() + "Z"
        by_day.setdefault(day, []).append(row)
        result.rows += 1
        if progress and (i % 500 == 0 or i == len(readable) - 1):
            progress(i + 1, len(readable))
    out_columns = [f for f in FIELDS if f in resolved or f in ("id", "created_at")]
    for day, rows in sorted(by_day.items()):
        folder = landing / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"replay-{source.stem}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, out_columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        result.files[str(path)] = len(rows)
    return result
