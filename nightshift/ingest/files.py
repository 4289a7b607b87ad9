"""Read a landing-zone day folder: CSV, JSONL and Parquet files (CSV and JSONL also gzipped) into raw records.

Reading never throws a file away: a record that cannot be parsed comes back with its error, so the
ingest can quarantine it with the file and line it came from.

Real exports are not all UTF-8 with commas. A byte-order mark says UTF-8 or UTF-16; otherwise UTF-8 is
tried and, when the bytes are not UTF-8, the fallback encoding (cp1252 unless configured: what Excel
and older help desks write on Western systems) decodes them. Detection among legacy code pages is not
attempted: on short exports it guesses wrong (charset-normalizer read a cp1252 file as cp1250). A
CSV's delimiter is the one of , ; tab | its header line holds most of, unless configured.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

SUPPORTED = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
COMPRESSED = ".gz"
RAW_EXCERPT_CHARS = 2000
DELIMITERS = ",;\t|"
UTF8_BEYOND_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
FALLBACK_ENCODING = "cp1252"


@dataclass(frozen=True)
class Formats:
    """How to read text files when the file does not say: the encoding of non-UTF-8 bytes, and the CSV delimiter."""

    encoding: str = FALLBACK_ENCODING
    delimiter: str | None = None  # None: sniffed from the header line

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
    read_as: str = ""  # how it was read, for the ingest's metadata: "csv, cp1252, ';', gzip"


def decode(data: bytes, fallback: str) -> tuple[str, str]:
    """The text and the encoding it was read with: a BOM's, else UTF-8, else ``fallback``."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", "surrogateescape"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    text = data.decode("utf-8", "surrogateescape")
    # Valid UTF-8 beyond ASCII next to the bad bytes: a UTF-8 file with damaged lines, which are quarantined, not guessed at.
    if not has_undecodable([text]) or UTF8_BEYOND_ASCII.search(text):
        return text, "utf-8"
    try:
        return data.decode(fallback), fallback
    except UnicodeDecodeError:
        return text, "utf-8"


def sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","


def excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    # Undecodable bytes were kept as surrogates; show them as \x escapes rather than fail to store.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text[:RAW_EXCERPT_CHARS]


def has_undecodable(values: Any) -> bool:
    return any(isinstance(v, str) and any("\udc80" <= ch <= "\udcff" for ch in v) for v in values)


def read_csv(text: str, delimiter: str) -> tuple[list[str], list[RawRecord]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter)
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
        raw = excerpt(delimiter.join(row))
        if len(row) != len(header):
            records.append(RawRecord(line, None, f"unparseable CSV: expected {len(header)} fields, got {len(row)}", raw))
        elif has_undecodable(row):
            records.append(RawRecord(line, None, "non-UTF-8 bytes", raw))
        else:
            records.append(RawRecord(line, dict(zip(header, row)), raw=raw))
    return header or [], records


def csv_records(data: bytes, formats: Formats = Formats()) -> tuple[list[str], list[RawRecord]]:
    """A whole CSV file's bytes, decoded and split as read_file would (for the replay and knowledge-base readers)."""
    text, _ = decode(data, formats.encoding)
    return read_csv(text, formats.delimiter or sniff_delimiter(text))


def read_jsonl(text: str) -> tuple[list[str], list[RawRecord]]:
    records: list[RawRecord] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        if not line.strip():
            continue
        raw = excerpt(line)
        if has_undecodable([line]):
            records.append(RawRecord(number, None, "non-UTF-8 bytes", raw))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            records.append(RawRecord(number, None, f"unparseable JSON: {exc.msg} (column {exc.colno})", raw))
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


def read_file(path: Path, root: Path, formats: Formats = Formats()) -> RawFile:
    rel = str(path.relative_to(root))
    compressed = path.suffix.lower() == COMPRESSED
    suffix = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
    kind = SUPPORTED.get(suffix)
    if kind is None or (compressed and kind == "parquet"):
        return RawFile(rel, records=[RawRecord(None, None, f"unsupported file type: {''.join(path.suffixes) or '(none)'!r}")])
    try:
        if kind == "parquet":
            return RawFile(rel, *read_parquet(path), read_as="parquet")
        data = gzip.decompress(path.read_bytes()) if compressed else path.read_bytes()
        text, encoding = decode(data, formats.encoding)
        delimiter = formats.delimiter or ("\t" if suffix == ".tsv" else sniff_delimiter(text))
        columns, records = read_csv(text, delimiter) if kind == "csv" else read_jsonl(text)
    except Exception as exc:  # a corrupt file is one quarantined record, not a crashed night
        return RawFile(rel, records=[RawRecord(None, None, f"unreadable {kind} file: {exc}")])
    read_as = [kind, encoding, *([repr(delimiter)] if kind == "csv" else []), *(["gzip"] if compressed else [])]
    return RawFile(rel, columns, records, ", ".join(read_as))


def day_files(folder: Path) -> list[Path]:
    """Data files of a day folder, in a stable order; dotfiles and _markers (e.g. _SUCCESS) are skipped."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))
    )


def read_day(folder: Path, root: Path, formats: Formats = Formats()) -> Iterator[RawFile]:
    for path in day_files(folder):
        yield read_file(path, root, formats)
