"""The triage model's bounded training window: what it reads, and when it retrains."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.triage.artifact import TriageModel
from nightshift.triage.classifier import split
from nightshift.triage.window import TrainingWindow, latest_per_label
from nightshift.warehouse.database import Warehouse
from nightshift.warehouse.tickets import TicketsSQL
from tests.test_triage_assets import run_day


def ticket(ticket_id: str, day: date, label: str | None, hour: int = 0) -> dict:
    return {"ticket_id": ticket_id, "day": day, "created_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=hour),
            "text_redacted": f"text {ticket_id}", "text_hash": ticket_id, "redactions": 0, "label": label,
            "source_file": "t.csv"}


def test_the_window_keeps_the_latest_tickets_per_label_of_the_last_days_only(tmp_path):
    tickets = TicketsSQL(Warehouse(tmp_path / "w.duckdb"))
    first = date(2026, 1, 1)
    for d in range(10):
        day = first + timedelta(days=d)
        rows = [ticket(f"{label}-{d}-{i}", day, label, hour=i) for label in ("a", "b", None) for i in range(3)]
        tickets.replace_day(day, rows, [])
    window = tickets.training_window(first + timedelta(days=8), per_label=4, days=5)
    by_label: dict = {}
    for row in window:
        by_label.setdefault(row["label"], []).append(row["ticket_id"])
    # Per label the 4 latest up to day 8: day 8's three and day 7's last; never day 9 (after) or before day 4 (too old).
    assert {k: sorted(v) for k, v in by_label.items()} == {
        label: sorted([f"{label}-8-0", f"{label}-8-1", f"{label}-8-2", f"{label}-7-2"]) for label in ("a", "b", None)}
    assert len(tickets.training_window(first + timedelta(days=8), per_label=100, days=2)) == 2 * 9


def test_latest_per_label_keeps_the_last_rows_of_each_label_in_file_order():
    assert latest_per_label(["a", "b", "a", "a", "b", "c"], 2) == [1, 2, 3, 4, 5]


def test_the_model_is_reused_until_enough_of_the_window_is_new_or_the_labels_change():
    window = TrainingWindow(per_label=10, days=30, retrain_share=0.2)
    seen = {f"t{i}" for i in range(10)}
    assert window.retrain_reason([f"t{i}" for i in range(1, 11)], {"a"}, seen, {"a"}) is None  # 10% new
    assert "30% of the window is new" in str(window.retrain_reason([f"t{i}" for i in range(3, 13)], {"a"}, seen, {"a"}))
    assert "1 new" in str(window.retrain_reason(sorted(seen), {"a", "b"}, seen, {"a"}))


@pytest.mark.slow
def test_triage_model_trains_on_the_bounded_window_and_says_why_it_retrains(sample_home, monkeypatch):
    monkeypatch.setenv("NIGHTSHIFT_TRAIN_PER_LABEL", "5")
    defs = build_definitions(sample_home, "")
    first = run_day(defs, "2026-11-01")["triage_model"]
    labels = first["classes"]
    assert first["trained"] == 1 and first["why"] == "no model for the day before"
    assert first["labelled"] <= 5 * labels and first["window_tickets"] <= 5 * (labels + 1)
    second = run_day(defs, "2026-11-02")["triage_model"]
    # Five per label, all from the newer day: the whole window is new to the first model.
    assert second["trained"] == 1 and "of the window is new" in second["why"] and second["version"] != first["version"]
    again = run_day(defs, "2026-11-02")["triage_model"]
    assert again["trained"] == 0 and again["version"] == second["version"]


@pytest.mark.slow
def test_a_window_that_changed_little_keeps_the_day_befores_model(sample_home, monkeypatch):
    monkeypatch.setenv("NIGHTSHIFT_RETRAIN_SHARE", "0.6")
    defs = build_definitions(sample_home, "")
    first = run_day(defs, "2026-11-01")["triage_model"]
    second = run_day(defs, "2026-11-02")["triage_model"]  # 150 of 300 tickets new: 50%, under 60%
    assert second["trained"] == 0 and second["version"] == first["version"] and "under 60%" in second["why"]


def test_nearest_known_in_blocks_is_the_same_as_at_once_and_skips_the_ticket_itself():
    rng = np.random.default_rng(0)
    known = rng.normal(size=(50, 8)).astype(np.float32)
    known /= np.linalg.norm(known, axis=1, keepdims=True)
    model = TriageModel("v", "zero_shot", None, None, [f"k{i}" for i in range(50)], known, cache_threshold=1.01)  # type: ignore[arg-type]
    queries, ids = known[:7], ["k0", "new", "k2", "k3", "x", "k5", "k6"]
    at_once, blocked = model.nearest_known(queries, ids), model.nearest_known(queries, ids, block=3)
    assert np.allclose(at_once, blocked)
    assert at_once[1] == pytest.approx(1.0) and at_once[0] < 1.0  # "new" carries k1's vector, k1 is known; k0 never meets itself


def test_a_small_window_of_many_labels_still_gets_a_stratified_held_out_split():
    labels = [f"intent{i % 11}" for i in range(40)] + ["once"]  # 40 rows of 11 labels: 20% would be 8 test rows
    train, test = split(len(labels), labels)
    assert sorted({labels[i] for i in test}) == sorted({f"intent{i}" for i in range(11)})  # one of each
    assert len(train) + len(test) == 41 and 40 in train  # the label seen once trains
    assert split(3, ["a", "b", "c"])[1].size == 0  # nothing to stratify: no held-out rows


def test_predicting_in_blocks_gives_the_labels_of_one_pass():
    from nightshift.triage.classifier import TextClassifier

    rng = np.random.default_rng(3)
    texts = [f"{word} order number {i}" for i, word in enumerate(["refund", "cancel", "track", "invoice"] * 10)]
    vectors = rng.normal(size=(len(texts), 8)).astype(np.float32)
    labels = [t.split()[0] for t in texts]
    model = TextClassifier().fit(texts, vectors, labels)
    whole, blocked = model.predict(texts, vectors), model.predict(texts, vectors, block=7)
    assert blocked.labels == whole.labels == labels
    assert np.allclose(blocked.confidence, whole.confidence)
    assert model.predict([], vectors[:0]).labels == []
