"""The public data sets in ../shared/data ingest with a mapping alone (skipped when absent)."""

import csv
import json
import shutil
from collections import Counter
from datetime import date, datetime

import pytest

from nightshift.ingest.redaction import redact
from nightshift.ingest.replay import replay_csv
from nightshift.ingest.rules import reason_kind
from nightshift.resources.landing import LandingZone
from tests.conftest import shared_data
from tests.test_ingest_asset import count, run

# Evaluations on the public data sets: minutes, not seconds.
pytestmark = pytest.mark.slow

BITEXT = shared_data() / "bitext_customer_support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
HADOOP = shared_data() / "gitbugs" / "hadoop_bugs.csv"
HADOOP_MAP = "id=Issue id,subject=Summary,text=Description,created_at=Created,priority=Priority"
needs = lambda path: pytest.mark.skipif(not path.exists(), reason=f"{path} not present")  # noqa: E731


def with_mapping(resources, mapping: str):
    return {**resources, "landing": LandingZone(root=resources["landing"].root, mapping=mapping)}


@needs(BITEXT)
def test_bitext_raw_file_ingests_with_a_mapping(home, resources):
    folder = home.landing / "2026-11-10"
    folder.mkdir(parents=True)
    shutil.copy(BITEXT, folder)
    resources = with_mapping(resources, "text=instruction,label=intent")
    result = run(resources, "2026-11-10")
    assert result.metadata["rows_in"].value == 4514
    assert result.metadata["rows_stored"].value == 4514 and result.metadata["rows_quarantined"].value == 0
    labels = resources["warehouse"].db.query("SELECT count(DISTINCT label) AS n FROM tickets")["n"][0].as_py()
    assert labels == 27


@needs(HADOOP)
def test_hadoop_raw_file_keeps_its_day_and_quarantines_the_rest(home, resources):
    with HADOOP.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    created = Counter(datetime.strptime(r["Created"], "%d/%b/%y %H:%M").date() for r in rows)
    day, on_day = created.most_common(1)[0]
    folder = home.landing / day.isoformat()
    folder.mkdir(parents=True)
    shutil.copy(HADOOP, folder)
    resources = with_mapping(resources, HADOOP_MAP)
    result = run(resources, day.isoformat())
    assert result.metadata["rows_in"].value == len(rows) == 2503
    assert result.metadata["rows_stored"].value == on_day
    assert result.check_results[0].passed
    reasons = resources["warehouse"].db.query("SELECT reason FROM tickets_quarantine")["reason"].to_pylist()
    oversize = sum(len(r["Summary"]) + 2 + len(r["Description"]) > 20_000 for r in rows)
    assert Counter(map(reason_kind, reasons)) == {"created on another day": len(rows) - on_day - oversize, "text over size limit": oversize}


@needs(HADOOP)
def test_hadoop_replayed_over_a_week_ingests_whole(home, resources):
    result = replay_csv(HADOOP, home.landing, dict(p.split("=") for p in HADOOP_MAP.split(",")), days=7, start=date(2026, 11, 1))
    assert result.rows == 2503 and len(result.files) == 7
    stored = quarantined = 0
    for i in range(7):
        meta = run(resources, f"2026-11-0{i + 1}").metadata
        stored, quarantined = stored + meta["rows_stored"].value, quarantined + meta["rows_quarantined"].value
    assert stored + quarantined == 2503
    reasons = resources["warehouse"].db.query("SELECT reason FROM tickets_quarantine")["reason"].to_pylist()
    assert reasons and {reason_kind(r) for r in reasons} == {"text over size limit"}  # only the log dumps
    assert count(resources, "tickets") == stored
    assert resources["warehouse"].db.query("SELECT count(DISTINCT priority) AS n FROM tickets")["n"][0].as_py() == 5


BANKING = shared_data() / "banking77" / "train.csv"


def eval_json(*args) -> dict:
    from typer.testing import CliRunner

    from nightshift.app.cli import app

    result = CliRunner().invoke(app, ["eval", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs(BANKING)
def test_banking77_triage_accuracy_beats_090_and_the_tfidf_baseline():
    out = eval_json("triage", "--csv", str(BANKING), "--map", "text=text,label=category")
    assert out["accuracy"] >= 0.90 and out["macro_f1"] >= 0.90
    assert out["accuracy"] > out["baseline_accuracy"]


@needs(BITEXT)
def test_bitext_cache_threshold_keeps_false_hits_under_one_percent():
    out = eval_json("cache", "--csv", str(BITEXT), "--map", "text=instruction,label=intent")
    assert out["false_hit_rate"] <= 0.01 and out["hit_rate"] > 0.2


@needs(BITEXT)
def test_bitext_hybrid_retrieval_over_held_apart_macros_finds_the_intent_in_the_top_5(tmp_path):
    eval_json("macros", "--csv", str(BITEXT), "--map", "text=instruction,label=intent,reference=response", "--out", str(tmp_path))
    out = eval_json("retrieval", "--csv", str(tmp_path / "tickets.csv"), "--kb", str(tmp_path / "kb"))
    assert out["recall_at_5"] >= 0.95 and out["hybrid_at_least_each_mode"], out


@needs(BANKING)
@needs(BITEXT)
@needs(HADOOP)
def test_redaction_on_real_text_leaves_customer_messages_alone_and_finds_what_bug_reports_hold():
    """Real customer messages (banking77, Bitext) hold amounts and order numbers but no personal data: any detection is a
    false positive. Hadoop's bug reports hold real addresses and hosts (about 14 of the IPs are four-part versions), and
    secrets: S3 request ids, session tokens, base64 keys, passwords in ftp:// and s3:// URLs."""
    def found(path, column):
        with open(path, encoding="utf-8", newline="") as f:
            return sum((redact(row[column]).counts for row in csv.DictReader(f)), Counter())

    assert found(BANKING, "text") == Counter()
    assert found(BITEXT, "instruction") == Counter()
    hadoop = found(HADOOP, "Description")
    assert hadoop == Counter(EMAIL=84, IP=172, SECRET=45), hadoop
