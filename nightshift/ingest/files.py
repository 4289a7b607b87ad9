"""Read a landing-zone day folder: CSV, JSONL and Parquet files into raw records.

Reading never throws a file away: a record that cannot be parsed comes back with its error, so the
ingest can quarantine it with the file and line it came from.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

SUPPORTED = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
RAW_EXCERPT_CHARS = 2000

# Long ticket bodies (logs, stack traces) are legitimate; our own size limit judges them, not csv's.
csv.field_size_limit(sys.maxsize)


@dataclass
class RawRecord:
    line: int | None  # 1-based line (CSV/JSONL: where the record starts) or row number (Parquet)
    fields: dict[str, Any] | None
    error: str | None = None
    raw: str = ""


@dataclass
class RawFile:
    path: str  # relative to the landing root, as stored in quarantine rows
    columns: list[str] = field(default_factory=list)
    records: list[RawRecord] = field(default_factory=list)


def excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    # Undecodable bytes were kept as surrogates; show them as \x escapes rather than fail to store.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text[:RAW_EXCERPT_CHARS]


def has_undecodable(values: Any) -> bool:
    return any(isinstance(v, str) and any("\udc80" <= ch <= "\udcff" for ch in v) for v in values)


def read_csv(data: bytes) -> tuple[list[str], list[RawRecord]]:
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[RawRecord] = []
    header: list[str] | None = None
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            records.append(RawRecord(start, None, f"unparseable CSV: {exc}"))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if header is None:
            header = [h.strip() for h in row]
            continue
        raw = excerpt(",".join(row))
        if len(row) != len(header):
            records.append(RawRecord(line, None, f"unparseable CSV: expected {len(header)} fields, got {len(row)}", raw))
        elif has_undecodable(row):
            records.append(RawRecord(line, None, "non-UTF-8 bytes", raw))
        else:
            records.append(RawRecord(line, dict(zip(header, row)), raw=raw))
    return header or [], records


def read_jsonl(data: bytes) -> tuple[list[str], list[RawRecord]]:
    records: list[RawRecord] = []
    columns: dict[str, None] = {}
    for number, chunk in enumerate(data.split(b"\n"), start=1):
        if not chunk.strip():
            continue
        raw = excerpt(chunk.decode("utf-8", "surrogateescape"))
        try:
            obj = json.loads(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            records.append(RawRecord(number, None, "non-UTF-8 bytes", raw))
            continue
        except json.JSONDecodeError as exc:
            records.append(RawRecord(number, None, f"unparseable JSON: {exc.msg} at column {exc.colno}", raw))
            continue
        if not isinstance(obj, dict):
            records.append(RawRecord(number, None, f"JSON line is not an object: {type(obj).__name__}", raw))
            continue
        columns.update(dict.fromkeys(obj))
        records.append(RawRecord(number, obj, raw=raw))
    return list(columns), records


def read_parquet(path: Path) -> tuple[list[str], list[RawRecord]]:
    table = pq.read_table(path)
    return table.column_names, [
        RawRecord(i, row, raw=excerpt(row)) for i, row in enumerate(table.to_pylist(), start=1)
    ]


def read_file(path: Path, root: Path) -> RawFile:
    rel = str(path.relative_to(root))
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        return RawFile(rel, records=[RawRecord(None, None, f"unsupported file type: {path.suffix or '(none)'!r}")])
    try:
        if kind == "parquet":
            columns, records = read_parquet(path)
        else:
            columns, records = (read_csv if kind == "csv" else read_jsonl)(path.read_bytes())
    except Exception as exc:  # a corrupt file is one quarantined record, not a crashed night
        return RawFile(rel, records=[RawRecord(None, None, f"unreadable {kind} file: {exc}")])
    return RawFile(rel, columns, records)


def day_files(folder: Path) -> list[Path]:
    """Data files of a day folder, in a stable order; dotfiles and _markers (e.g. _SUCCESS) are skipped."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))
    )


def read_day(folder: Path, root: Path) -> Iterator[RawFile]:
    for path in day_files(folder):
        yield read_file(path, root)
