"""`nightshift eval triage` and `nightshift eval cache` on CSVs made from the sample generator."""

import csv
import json
import socket
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


def write_with_replies(path) -> None:
    """Sample tickets with a reference reply each, as bitext carries its `response` column."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "intent", "reply"])
        for day in (date(2026, 1, 1), date(2026, 1, 2)):
            for row in day_tickets(day, SampleSpec(tickets_per_day=200)):
                writer.writerow([f"{row['subject']}. {row['body']}", row["label"], f"Thanks for writing about {row['subject']}: we are on it."])


def test_eval_answers_scores_each_route_and_sees_wrong_answers(tmp_path, monkeypatch):
    """Through a real chat endpoint (the batch server's), once answering well, once with the small model 30% wrong."""
    from nightshift.llm.engine import Faults, LocalBatchEngine
    from nightshift.llm.pricing import load_prices
    from nightshift.llm.server import BatchServer

    data = tmp_path / "replies.csv"
    write_with_replies(data)
    args = ["eval", "answers", "--csv", str(data), "--map", "text=question,label=intent,reference=reply", "--rows", "60", "--judge"]
    results = {}
    for name, faults in (("clean", Faults()), ("wrong", Faults(wrong_share=0.3, wrong_model=load_prices().routes["small_model"]))):
        with BatchServer(LocalBatchEngine(tmp_path / name, faults=faults), port=free_port()).running() as server:
            monkeypatch.setenv("NIGHTSHIFT_CHAT_URL", server.base_url)
            result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        results[name] = last_json(result.stdout)
    clean, wrong = results["clean"], results["wrong"]
    assert clean["answers"] == wrong["answers"] == 60 and clean["responder"].startswith("http://127.0.0.1")
    small_clean, small_wrong = clean["routes"]["small_model"], wrong["routes"]["small_model"]
    assert small_clean["agreement"] >= 0.9 and small_clean["judge_agreement"] == small_clean["agreement"]
    assert small_wrong["agreement_low"] <= 0.7 * small_clean["agreement"] <= small_wrong["agreement_high"]
    assert small_wrong["similarity"] < small_clean["similarity"] and 0 < small_clean["similarity"] < 1


def test_eval_answers_needs_a_reference_column(tmp_path):
    data = write(tmp_path / "train.csv", [date(2026, 1, 1)])
    result = runner.invoke(app, ["eval", "answers", "--csv", str(data), "--map", "text=question,label=intent"])
    assert result.exit_code != 0 and "reference=COLUMN" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_eval_retrieval_scores_every_mode_on_the_sample_help_centre(tmp_path):
    from pathlib import Path

    data = write(tmp_path / "tickets.csv", [date(2026, 1, 1)])
    kb = Path(__file__).resolve().parents[1] / "nightshift" / "data" / "help_centre"
    result = runner.invoke(app, ["eval", "retrieval", "--csv", str(data), "--map", "text=question,label=intent", "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    out = last_json(result.stdout)
    assert set(out["modes"]) == {"hybrid", "vector", "fts"} and out["recall_at_5"] == out["modes"]["hybrid"]["recall_at_5"]
    assert out["recall_at_5"] >= 0.95 and 0 < out["mrr"] <= 1 and out["articles"] == 20


def test_eval_macros_holds_the_same_rows_apart_every_time(tmp_path):
    data = tmp_path / "bitext.csv"
    with data.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instruction", "intent", "response"])
        writer.writerows([f"question {i}", f"intent{i % 3}", f"reply {i}"] for i in range(30))
    runs = []
    for out in ("a", "b"):
        result = runner.invoke(app, ["eval", "macros", "--csv", str(data), "--map", "text=instruction,label=intent,reference=response",
                                     "--out", str(tmp_path / out), "--per-label", "2"])
        assert result.exit_code == 0, result.output
        runs.append(((tmp_path / out / "kb" / "macros.csv").read_text(), (tmp_path / out / "tickets.csv").read_text()))
    macros, tickets = runs[0]
    assert runs[0] == runs[1] and len(macros.splitlines()) == 1 + 6 and len(tickets.splitlines()) == 1 + 24
    held = {int(line.split(",")[0].removeprefix("row")) - 1 for line in macros.splitlines()[1:]}
    assert len(held) == 6 and not {f"question {i}" for i in held} & {line.split(",")[0] for line in tickets.splitlines()[1:]}
