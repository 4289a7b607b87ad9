from datetime import date

import pytest

from nightshift.ingest.replay import replay_csv


def write(tmp_path, text: str):
    path = tmp_path / "src.csv"
    path.write_text(text)
    return path


def test_undated_file_spreads_over_days_with_stable_ids(tmp_path):
    src = write(tmp_path, "question,intent\n" + "".join(f"q{i},i{i % 3}\n" for i in range(10)))
    first = replay_csv(src, tmp_path / "landing", {"text": "question", "label": "intent"}, days=3, start=date(2026, 1, 30))
    assert first.rows == 10
    assert sorted(f.split("/")[-2] for f in first.files) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    content = {f: open(f).read() for f in first.files}
    again = replay_csv(src, tmp_path / "landing", {"text": "question", "label": "intent"}, days=3, start=date(2026, 1, 30))
    assert {f: open(f).read() for f in again.files} == content  # rerun rewrites the same files
    header, row = open(next(iter(first.files))).read().splitlines()[:2]
    assert header == "id,text,created_at,label"
    assert row.startswith("t_") and "2026-01-30T" in row


def test_dated_file_goes_to_its_own_days(tmp_path):
    src = write(tmp_path, "key,body,when\nA,x,2026-03-01T10:00:00Z\nB,y,2026-03-02T11:00:00Z\nC,z,not a date\n")
    result = replay_csv(src, tmp_path / "landing", {"id": "key", "text": "body", "created_at": "when"})
    assert result.rows == 2 and result.undated == 1
    assert sorted(f.split("/")[-2] for f in result.files) == ["2026-03-01", "2026-03-02"]


def test_undated_file_without_days_is_an_error(tmp_path):
    src = write(tmp_path, "text\nhello\n")
    with pytest.raises(ValueError, match="--days"):
        replay_csv(src, tmp_path / "landing", {})
