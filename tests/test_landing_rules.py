"""Every malformed-input case lands in quarantine with file, line and reason; nothing is lost."""

import gzip
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nightshift.ingest.files import Formats, read_day
from nightshift.ingest.rules import DayBatch, Rules, normalize_day, quarantine_ids_stored_elsewhere, stable_id

DAY = date(2026, 11, 2)
HEADER = b"id,subject,body,created_at\n"
GOOD = b"A1,Refund,Where is my refund?,2026-11-02T09:00:00Z\n"


def ingest(tmp_path, files: dict[str, bytes], mapping=None, rules=Rules(), formats=Formats()) -> DayBatch:
    folder = tmp_path / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    batch = normalize_day(read_day(folder, tmp_path, formats), DAY, mapping or {}, rules)
    assert batch.rows_in == len(batch.tickets) + len(batch.quarantine)
    return batch


def only_reason(batch: DayBatch) -> tuple[str, int | None]:
    assert len(batch.quarantine) == 1, batch.quarantine
    row = batch.quarantine[0]
    assert row["source_file"].startswith(DAY.isoformat())
    return row["reason"], row["source_line"]


@pytest.mark.parametrize(
    "bad_line, reason",
    [
        (b"A2,Hi,When?,\n", "bad created_at: empty created_at"),
        (b"A2,,,2026-11-02T10:00:00Z\n", "missing text"),
        (b"A2,Hi,When?,yesterday-ish\n", "bad created_at"),
        (b"A1,Again,Where is my refund?,2026-11-02T11:00:00Z\n", "duplicate id: 'A1', first seen at 2026-11-02/t.csv:2"),
        ("A2,Café,".encode() + b"ferm\xe9,2026-11-02T10:00:00Z\n", "non-UTF-8 bytes"),  # a damaged line in a UTF-8 file
        (b"A2,Hi,When?,2026-11-02T10:00:00Z,surplus\n", "unparseable CSV: expected 4 fields, got 5"),
        (b",Hi,When?,2026-11-02T10:00:00Z\n", "missing id"),
        (b"A2,Hi,When?,2026-11-01T23:59:00Z\n", "created on another day: 2026-11-01, partition 2026-11-02"),
        (b"A2,Hi,When?,2026-11-03T00:30:00+02:00\n", None),  # 22:30 UTC on the 2nd: belongs here
    ],
)
def test_csv_bad_rows_are_quarantined_with_line_and_reason(tmp_path, bad_line, reason):
    batch = ingest(tmp_path, {"t.csv": HEADER + GOOD + bad_line})
    if reason is None:
        assert len(batch.tickets) == 2 and not batch.quarantine
        return
    got, line = only_reason(batch)
    assert got.startswith(reason)
    assert line == 3
    assert [t["ticket_id"] for t in batch.tickets] == ["A1"]


def test_oversize_text_is_quarantined_not_truncated(tmp_path):
    big = b"A2,Logs," + b"x" * 200 + b",2026-11-02T10:00:00Z\n"
    batch = ingest(tmp_path, {"t.csv": HEADER + GOOD + big}, rules=Rules(max_text_chars=100))
    reason, _ = only_reason(batch)
    assert reason == "text over size limit: 206 chars, limit 100"


def test_jsonl_bad_lines(tmp_path):
    lines = [
        b'{"id": "J1", "body": "ok", "created_at": "2026-11-02T01:00:00"}',
        b'{"id": "J2", "body": "cut off',
        b"[1, 2]",
        b"",
        '{"id": "J3", "body": "café, '.encode() + b'caf\xe9", "created_at": "2026-11-02T01:00:00"}',
    ]
    batch = ingest(tmp_path, {"t.jsonl": b"\n".join(lines) + b"\n"})
    reasons = {q["source_line"]: q["reason"] for q in batch.quarantine}
    assert reasons[2].startswith("unparseable JSON")
    assert reasons[3] == "JSON line is not an object: list"
    assert reasons[5] == "non-UTF-8 bytes"
    assert "\\xe9" in batch.quarantine[-1]["raw"]  # the bad bytes are kept, escaped, for inspection
    assert [t["ticket_id"] for t in batch.tickets] == ["J1"]


def test_parquet_rows_and_a_corrupt_file(tmp_path):
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ["P1", "P2"], "body": ["hello", None], "created_at": ["2026-11-02T05:00:00Z"] * 2}), buf)
    batch = ingest(tmp_path, {"a.parquet": buf.getvalue().to_pybytes(), "b.parquet": b"PAR1 not really"})
    reasons = sorted(q["reason"] for q in batch.quarantine)
    assert reasons[0] == "missing text"
    assert reasons[1].startswith("unreadable parquet file")
    assert [t["ticket_id"] for t in batch.tickets] == ["P1"]


def test_unsupported_file_and_mapping_mismatch_are_quarantined_not_skipped(tmp_path):
    batch = ingest(tmp_path, {"notes.txt": b"hello", "t.csv": HEADER + GOOD, "_SUCCESS": b""}, mapping={"text": "Description"})
    reasons = sorted(q["reason"] for q in batch.quarantine)
    assert reasons[0].startswith("mapping: mapped column(s) 'Description' not in file")
    assert reasons[1] == "unsupported file type: '.txt'"
    assert batch.rows_in == 2 and not batch.tickets


def test_no_id_or_date_columns_get_stable_ids_and_the_partition_day(tmp_path):
    files = {"t.csv": b"text\nfirst ticket\nsecond ticket\n"}
    first = ingest(tmp_path, files)
    again = ingest(tmp_path, files)
    assert [t["ticket_id"] for t in first.tickets] == [t["ticket_id"] for t in again.tickets]
    assert first.tickets[0]["ticket_id"] == stable_id("2026-11-02/t.csv", 2, "first ticket")
    assert {t["created_at"].date() for t in first.tickets} == {DAY}


def test_pii_is_redacted_in_the_outgoing_text_only(tmp_path):
    row = b"A9,Card,Charged twice on 4111 1111 1111 1111 - mail me at a@b.com,2026-11-02T09:00:00Z\n"
    batch = ingest(tmp_path, {"t.csv": HEADER + row})
    ticket = batch.tickets[0]
    assert "4111" in ticket["body"] and "a@b.com" in ticket["body"]
    assert "4111" not in ticket["text_redacted"] and "a@b.com" not in ticket["text_redacted"]
    assert ticket["redactions"] == 2 and batch.redactions == {"CARD": 1, "EMAIL": 1}


def test_ids_stored_under_another_day_move_to_quarantine(tmp_path):
    batch = ingest(tmp_path, {"t.csv": HEADER + GOOD})
    quarantine_ids_stored_elsewhere(batch, {"A1": date(2026, 10, 30)})
    assert not batch.tickets
    assert batch.quarantine[0]["reason"] == "duplicate id: 'A1', already stored for 2026-10-30"
    assert batch.rows_in == 1


def test_jira_dates_parse_with_a_known_format(tmp_path):
    data = b"Issue id,Summary,Created\n1,Build broken,02/Nov/26 17:20\n"
    batch = ingest(tmp_path, {"jira.csv": data}, mapping={"id": "Issue id", "subject": "Summary", "created_at": "Created"})
    assert batch.tickets and batch.tickets[0]["created_at"].hour == 17


# Exports from real tools: Excel's cp1252, UTF-16 with its BOM, gzip, European semicolons.
LEGACY = "id;subject;body;created_at\r\nL1;Café;Grüße, la façade coûte 5 € — merci;2026-11-02T09:00:00Z\r\n"


@pytest.mark.parametrize("name, data, read_as", [
    ("excel.csv", LEGACY.encode("cp1252"), "csv, cp1252, ';'"),
    ("utf16.csv", LEGACY.encode("utf-16"), "csv, utf-16, ';'"),
    ("bom.csv", LEGACY.encode("utf-8-sig"), "csv, utf-8-sig, ';'"),
    ("export.csv.gz", gzip.compress(LEGACY.encode()), "csv, utf-8, ';', gzip"),
    ("tabs.tsv", LEGACY.replace(";", "\t").encode(), "csv, utf-8, '\\t'"),
    ("export.jsonl.gz", gzip.compress('{"id": "L1", "subject": "Café", "body": "Grüße, la façade coûte 5 € — merci", '
                                      '"created_at": "2026-11-02T09:00:00Z"}\n'.encode()), "jsonl, utf-8, gzip"),
])
def test_real_exports_are_read_whole_and_say_how(tmp_path, name, data, read_as):
    batch = ingest(tmp_path, {name: data})
    assert not batch.quarantine and [t["ticket_id"] for t in batch.tickets] == ["L1"]
    assert batch.tickets[0]["text_redacted"] == "Café\n\nGrüße, la façade coûte 5 € — merci"
    assert batch.read_as == {f"{DAY.isoformat()}/{name}": read_as}


def test_encoding_and_delimiter_can_be_given_per_landing_zone(tmp_path):
    text = "id|subject|body|created_at\nL1|Zażółć|gęślą jaźń|2026-11-02T09:00:00Z\n"
    batch = ingest(tmp_path, {"pl.csv": text.encode("cp1250")}, formats=Formats(encoding="cp1250", delimiter="|"))
    assert batch.tickets[0]["text_redacted"] == "Zażółć\n\ngęślą jaźń" and batch.read_as[f"{DAY.isoformat()}/pl.csv"] == "csv, cp1250, '|'"


def test_a_compressed_parquet_or_unknown_file_is_one_quarantine_row_that_says_so(tmp_path):
    batch = ingest(tmp_path, {"x.parquet.gz": b"PAR1", "notes.txt.gz": gzip.compress(b"hello")})
    assert sorted(q["reason"] for q in batch.quarantine) == ["unsupported file type: '.parquet.gz'", "unsupported file type: '.txt.gz'"]
