"""Where a reply stops being about its ticket: the answer cache's off-topic floor, measured on labelled replies.

    python -m bench.relevance_floor                       # Bitext's agent replies, from ../shared/data
    python -m bench.relevance_floor --csv FILE --text instruction --reply response --label category --n 1500

Each reply is compared (MiniLM cosine similarity) with its own request and with the request of another row of another
label: the first share above a floor is what the floor costs good answers, the second what it lets through. The
packaged default (nightshift.resources.answer_cache.RELEVANCE_FLOOR) was chosen from this table. The last line is JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

import numpy as np

from nightshift.ingest.encoders import MiniLMEmbedder
from nightshift.resources.answer_cache import RELEVANCE_FLOOR
from nightshift.triage.admission import relevance_floor

BITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitext_customer_support" / \
    "Bitext_Sample_Customer_Support_Training_Dataset.csv"
FLOORS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=str(BITEXT))
    parser.add_argument("--text", default="instruction")
    parser.add_argument("--reply", default="response")
    parser.add_argument("--label", default="category")
    parser.add_argument("--n", type=int, default=1500)
    args = parser.parse_args()
    with open(args.csv, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r[args.text].strip() and r[args.reply].strip()]
    random.Random(0).shuffle(rows)
    rows = rows[:args.n]
    embedder = MiniLMEmbedder()
    asks, replies = embedder.embed([r[args.text] for r in rows]), embedder.embed([r[args.reply] for r in rows])
    labels = np.array([r[args.label] for r in rows])
    other = np.roll(np.arange(len(rows)), 7)
    own = (asks * replies).sum(axis=1)
    elsewhere = (replies * asks[other]).sum(axis=1)[labels[other] != labels]
    print(f"{len(rows)} replies of {Path(args.csv).name}; another label's request for {len(elsewhere)} of them")
    print(f"{'floor':>6} {'own pass':>9} {'other label pass':>17}")
    table = []
    for floor in FLOORS:
        table.append({"floor": floor, "own_pass": round(float((own >= floor).mean()), 4),
                      "other_pass": round(float((elsewhere >= floor).mean()), 4)})
        mark = "  <- packaged default" if floor == RELEVANCE_FLOOR else ""
        print(f"{floor:6.2f} {table[-1]['own_pass']:9.4f} {table[-1]['other_pass']:17.4f}{mark}")
    calibrated = relevance_floor(own, elsewhere, RELEVANCE_FLOOR)
    print(f"calibrated as a night does (2% quantile of own, within [0.2, 0.6]): {calibrated.value:.3f}, own pass "
          f"{calibrated.pass_own:.4f}, other-label pass {calibrated.pass_others:.4f}")
    print(json.dumps({"rows": len(rows), "table": table, "calibrated": calibrated.value, "default": RELEVANCE_FLOOR}))


if __name__ == "__main__":
    main()
