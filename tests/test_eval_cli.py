"""`nightshift eval triage` and `nightshift eval cache` on CSVs made from the sample generator."""

import csv
import json
from datetime import date

import pytest
from typer.testing import CliRunner

from nightshift.app.cli import app
from nightshift.ingest.samples import SampleSpec, day_tickets

# Evaluations train and score models end to end.
pytestmark = pytest.mark.slow

runner = CliRunner()
HELD_BACK = {"subscription_cancel", "product_question", "invoice_request"}  # intents only the test file has


def write(path, days, keep=lambda row: True):
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "intent"])
        for day in days:
            for row in day_tickets(day, SampleSpec(tickets_per_day=200)):
                if keep(row):
                    writer.writerow([f"{row['subject']}. {row['body']}", row["label"]])
    return path


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_eval_triage_split_reports_model_and_baseline(tmp_path):
    data = write(tmp_path / "train.csv", [date(2026, 1, 1), date(2026, 1, 2)])
    result = runner.invoke(app, ["eval", "triage", "--csv", str(data), "--map", "text=question,label=intent"])
    assert result.exit_code == 0, result.output
    out = last_json(result.stdout)
    assert out["n_train"] + out["n_test"] == 400
    assert out["accuracy"] >= 0.9 and out["macro_f1"] > 0.8
    assert 0 <= out["baseline_accuracy"] <= 1 and 0 < out["coverage_at_confidence"] <= 1
    assert "baseline: word TF-IDF" in result.output


def test_eval_triage_on_a_second_file_counts_unseen_labels_sent_to_cache(tmp_path):
    train = write(tmp_path / "train.csv", [date(2026, 1, 1), date(2026, 1, 2)], lambda r: r["label"] not in HELD_BACK)
    test = write(tmp_path / "test.csv", [date(2026, 2, 1)])
    result = runner.invoke(app, ["eval", "triage", "--csv", str(train), "--test-csv", str(test),
                                 "--map", "text=question,label=intent"])
    assert result.exit_code == 0, result.output
    out = last_json(result.stdout)
    assert out["unseen_total"] > 20
    assert out["unseen_to_cache"] <= 0.02 * out["unseen_total"]  # an intent the cache never saw is not served from it
    assert out["n_test"] + out["unseen_total"] == 200


def test_eval_cache_reports_the_chosen_threshold(tmp_path):
    data = write(tmp_path / "data.csv", [date(2026, 1, 1), date(2026, 1, 2)])
    result = runner.invoke(app, ["eval", "cache", "--csv", str(data), "--map", "text=question,label=intent"])
    assert result.exit_code == 0, result.output
    out = last_json(result.stdout)
    assert out["false_hit_rate"] <= 0.01 and 0 < out["hit_rate"] <= 1
    assert 0.8 <= out["threshold"] <= 1.0 and out["n_fill"] + out["n_query"] == 400


def test_eval_needs_a_label_column(tmp_path):
    data = write(tmp_path / "data.csv", [date(2026, 1, 1)])
    result = runner.invoke(app, ["eval", "cache", "--csv", str(data), "--map", "text=question"])
    assert result.exit_code == 2 and "no label column" in result.output


def test_eval_triage_can_hold_labels_out_of_training(tmp_path):
    data = write(tmp_path / "train.csv", [date(2026, 1, 1), date(2026, 1, 2)])
    result = runner.invoke(app, ["eval", "triage", "--csv", str(data), "--map", "text=question,label=intent",
                                 "--hold-out-labels", "3"])
    assert result.exit_code == 0, result.output
    out = last_json(result.stdout)
    assert out["unseen_total"] > 0 and out["unseen_to_cache"] <= 0.02 * out["unseen_total"]
    assert "3 labels kept out of training" in result.output
