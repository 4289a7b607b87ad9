"""Trains the injection classifier and chooses its operating points on data it was not fitted on.

    python -m nightshift.safety.training     # writes nightshift/data/injection_model.npz, prints the figures

Sources, each split by a stable hash (a template and every ticket built from it fall on the same side):
- injections: spikee 0.9.2's jailbreak templates filled with its instructions (fetched with `pip download`, read
  from the wheel), alone and inside an ordinary ticket; nightshift's own seeds in seven languages
  (``data/screening_seeds.json``);
- ordinary text: Bitext and banking77 customer messages and Hadoop bug reports from ../shared/data, the demo's sample
  tickets (a deployment's own history, in production), spikee's false-positive probes, and the seeds' ordinary tickets
  and look-alikes in the same seven languages.
70% trains, 15% chooses the operating points (``hold``: the lowest score whose false-flag rate on ordinary
validation text is under HOLD_FALSE_FLAGS; ``review``: the same at REVIEW_FALSE_FLAGS), 15% is the test reported.
bastioncorpus is never read here: it measures the result (tests/test_screening_model.py).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np

from nightshift.safety.injection_model import InjectionModel, save, vectorizer
from nightshift.safety.normalise import fold

SPIKEE = "spikee==0.9.2"
SPIKEE_JAILBREAKS = ("seeds-cybersec-2026-01", "seeds-sysmsg-extraction-2025-04", "seeds-llm-mailbox", "seeds-investment-advice",
                     "zzz_LEGACY_seeds-cybersec-2025-04")
SPIKEE_ORDINARY = ("seeds-investment-advice-fp",)
HOLD_FALSE_FLAGS = 0.0005       # of ordinary tickets
LOOK_ALIKE_FALSE_FLAGS = 0.10   # of bastioncorpus's benign look-alikes, written to be mistaken for attacks
REVIEW_FALSE_FLAGS = 0.02
LOOK_ALIKES = "bastioncorpus"
STRENGTHS = (1.0, 4.0, 16.0)    # inverse regularisation tried; validation recall picks one
PER_SOURCE = 4000  # training rows per source at most: enough to learn what tickets look like, quick to fit


@dataclass(frozen=True)
class Row:
    text: str
    injection: bool
    source: str
    group: str  # what decides the split: rows of one template share a side

    @property
    def split(self) -> str:
        share = int(hashlib.sha256(f"{self.source}:{self.group}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if self.source == LOOK_ALIKES:  # never trained on: half chooses, half measures
            return "validation" if share < 0.5 else "test"
        return "train" if share < 0.7 else "validation" if share < 0.85 else "test"


def spikee_rows(wheel: Path, rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    with zipfile.ZipFile(wheel) as z:
        def jsonl(name: str) -> list[dict]:
            path = f"spikee/data/workspace/datasets/{name}"
            return [json.loads(line) for line in z.read(path).decode().splitlines() if line.strip()] if path in z.namelist() else []

        instructions = [i["instruction"] for d in SPIKEE_JAILBREAKS for i in jsonl(f"{d}/instructions.jsonl")]
        for d in SPIKEE_JAILBREAKS:
            for jb in jsonl(f"{d}/jailbreaks.jsonl"):
                for instruction in rng.sample(instructions, min(6, len(instructions))):
                    text = jb["text"].replace("<INSTRUCTION>", instruction.rstrip("."))
                    rows.append(Row(text, True, "spikee", jb["id"]))
                    rows.append(Row(f"{rng.choice(CARRIERS)} {text}", True, "spikee", jb["id"]))
        for d in SPIKEE_ORDINARY:
            rows += [Row(r["text"], False, "spikee-fp", r["id"]) for r in jsonl(f"{d}/standalone_user_inputs.jsonl")]
    return rows


# The ordinary sentence an injection is hidden after, as tickets carry them.
CARRIERS = ("Hi, my order has not arrived yet.", "Hello, I have a question about my last invoice.",
            "I can't log in to my account since yesterday.", "My parcel arrived damaged.")


def seed_rows(rng: random.Random) -> list[Row]:
    seeds = json.loads(resources.files("nightshift.data").joinpath("screening_seeds.json").read_text(encoding="utf-8"))
    rows = []
    for language, parts in seeds["attack"].items():
        for f, frame in enumerate(parts["frame"]):
            for _ in range(40):
                o, t = rng.choice(parts["override"]), rng.choice(parts["task"])
                rows.append(Row(frame.format(o=o[0].upper() + o[1:], t=t), True, f"seeds-{language}", f"frame{f}"))
    for language, sentences in seeds["ordinary"].items():
        tricky = seeds["look_alike"][language]
        for n in range(300):
            picked = rng.sample(sentences, rng.randint(0, 2)) + rng.sample(tricky, 1)
            rows.append(Row(" ".join(rng.sample(picked, len(picked))), False, f"seeds-{language}", str(n)))
    return rows


def sample_rows() -> list[Row]:
    """The demo's own tickets (ingest/samples.py), as a deployment's ticket history would be: a desk's ordinary requests
    ("delete my account and all my data", "escalate this") share words with attacks, and only its own tickets say so."""
    from nightshift.ingest.samples import SampleSpec, day_tickets

    start = date(2026, 1, 1)
    return [Row(f"{t['subject']}\n\n{t['body']}".strip(), False, "samples", t["id"])
            for n in range(20) for t in day_tickets(start + timedelta(days=n), SampleSpec(seed=33))]


def shared_rows(data: Path) -> list[Row]:
    """Every row, its index in the file deciding its split: `nightshift eval safety` on a file's test rows is unseen."""
    files = (("bitext", data / "bitext_customer_support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv", "instruction"),
             ("banking77", data / "banking77" / "train.csv", "text"),
             ("gitbugs", data / "gitbugs" / "hadoop_bugs.csv", "Description"))
    rows = []
    for source, path, column in files:
        with open(path, encoding="utf-8", newline="") as f:
            texts = [r[column][:2000] for r in csv.DictReader(f) if r[column].strip()]
        rows += [Row(t, False, source, str(i)) for i, t in enumerate(texts)]
    return rows


def look_alike_rows() -> list[Row]:
    """bastioncorpus 0.6.0: injections and benign look-alikes in five languages, for choosing and measuring only."""
    lines = resources.files("bastioncorpus").joinpath("corpus/injections.jsonl").read_text(encoding="utf-8").splitlines()
    return [Row(r["text"], r["label"] == "malicious", LOOK_ALIKES, r["id"]) for r in map(json.loads, filter(str.strip, lines))]


def spikee_wheel(cache: Path) -> Path:
    found = sorted(cache.glob("spikee-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(cache), SPIKEE], check=True)
        found = sorted(cache.glob("spikee-*.whl"))
    return found[-1]


def threshold(scores: np.ndarray, false_flags: float) -> float:
    """The lowest score that flags at most ``false_flags`` of these ordinary texts."""
    return float(np.quantile(scores, 1 - false_flags, method="higher")) + 1e-6


def figures(scores: np.ndarray, labels: np.ndarray, cut: float) -> dict:
    flagged = scores >= cut
    tp, fp = int((flagged & labels).sum()), int((flagged & ~labels).sum())
    return {"recall": round(tp / max(1, labels.sum()), 4), "precision": round(tp / max(1, tp + fp), 4),
            "false_flag_rate": round(fp / max(1, (~labels).sum()), 5), "injections": int(labels.sum()),
            "ordinary": int((~labels).sum())}


def scored(weights: np.ndarray, bias: float, part: list[Row]) -> tuple[np.ndarray, np.ndarray]:
    """As tickets are scored: the highest score over the views, decoded payloads and all."""
    return InjectionModel(weights, bias, 1.0, 1.0, {}).scores([r.text for r in part]), np.array([r.injection for r in part])


def train(rows: list[Row], rng: random.Random) -> InjectionModel:
    from sklearn.linear_model import LogisticRegression

    split = {name: [r for r in rows if r.split == name] for name in ("train", "validation", "test")}
    by_source: dict[str, list[Row]] = {}
    for r in split["train"]:
        by_source.setdefault(r.source, []).append(r)
    split["train"] = [r for part in by_source.values() for r in rng.sample(part, min(PER_SOURCE, len(part)))]
    features = vectorizer()

    def matrix(part: list[Row]):
        return features.transform([fold(r.text) for r in part]), np.array([r.injection for r in part])

    x, y = matrix(split["train"])
    validation = split["validation"]
    hard = np.array([r.source == LOOK_ALIKES for r in validation])
    best = None
    for strength in STRENGTHS:
        fitted = LogisticRegression(C=strength, class_weight="balanced", max_iter=2000, solver="liblinear").fit(x, y)
        weights, bias = fitted.coef_[0].astype(np.float32), float(fitted.intercept_[0])
        val_scores, val_labels = scored(weights, bias, validation)
        hold = max(threshold(val_scores[~val_labels & ~hard], HOLD_FALSE_FLAGS),
                   threshold(val_scores[~val_labels & hard], LOOK_ALIKE_FALSE_FLAGS))
        recall = figures(val_scores[hard], val_labels[hard], hold)["recall"]
        if best is None or recall > best[0]:
            best = (recall, strength, weights, bias, hold, val_scores, val_labels)
    assert best is not None
    _, strength, weights, bias, hold, val_scores, val_labels = best
    review = threshold(val_scores[~val_labels & ~hard], REVIEW_FALSE_FLAGS)
    test_scores, test_labels = scored(weights, bias, split["test"])
    sources = sorted({r.source for r in rows})
    about = {
        "features": "char_wb n-grams 2-5 of the folded ticket, hashed to 2^18", "C": strength,
        "trained_on": {s: sum(r.source == s for r in split["train"]) for s in sources},
        "validation": {"hold": figures(val_scores, val_labels, hold), "review": figures(val_scores, val_labels, review)},
        "test": {"hold": figures(test_scores, test_labels, hold), "review": figures(test_scores, test_labels, review)},
        "test_by_source": {s: figures(test_scores[m], test_labels[m], hold) for s in sources
                           if (m := np.array([r.source == s for r in split["test"]])).any()},
    }
    return InjectionModel(weights, bias, hold, review, about)


def main() -> None:
    rng = random.Random(33)
    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    with tempfile.TemporaryDirectory() as tmp:
        rows = seed_rows(rng) + spikee_rows(spikee_wheel(Path(tmp)), rng) + shared_rows(data) + sample_rows() + look_alike_rows()
    model = train(rows, rng)
    out = Path(__file__).resolve().parents[1] / "data" / "injection_model.npz"
    out.write_bytes(save(model))
    print(json.dumps({"hold": model.hold, "review": model.review, **model.about}, indent=1))


if __name__ == "__main__":
    main()
