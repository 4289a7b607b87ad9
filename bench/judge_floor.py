"""Where the offline judge's two similarity floors lie, measured on labelled replies it was not tuned on.

    python -m bench.judge_floor                  # Bitext's agent replies (../shared/data) and the sample help centre

1. REPLY_FLOOR (candidate reply against reference reply). Bitext replies are paired with another reply of the same intent
   (a different ticket: harder than the judge's case, two answers to one ticket) and with a reply of another intent. The
   rows are split in two halves: the floor is the 5% quantile of same-intent similarities on the first half, and the
   pass rates are read on the second, so the figures printed for the floor are not the figures it was chosen from.
2. SUPPORT_FLOOR (candidate reply against the passages it cites). Bitext replies of the intents the sample help centre
   has an article for are compared with that article (own) and with the other articles (others), split and read the
   same way (2% quantile of own: a reply about its own article is rarely refused).

The constants in nightshift.llm.offline cite this script's output. The last line is JSON.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import numpy as np

from nightshift.ingest.encoders import MiniLMEmbedder
from nightshift.llm.engine import OFF_TOPIC_REPLY
from nightshift.llm.offline import REPLY_FLOOR, SUPPORT_FLOOR

BITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitext_customer_support" / \
    "Bitext_Sample_Customer_Support_Training_Dataset.csv"
HELP_CENTRE = Path(__file__).resolve().parents[1] / "nightshift" / "data" / "help_centre"
# Bitext intent -> the sample help-centre article that answers it (only the unambiguous ones).
ARTICLE_OF = {"cancel_order": "cancel-an-order", "track_order": "track-a-package", "track_refund": "refund-timing",
              "check_refund_policy": "return-policy", "delete_account": "close-your-account",
              "recover_password": "reset-your-password", "change_shipping_address": "change-delivery-address",
              "get_invoice": "invoices", "check_invoice": "invoices", "delivery_period": "delivery-times"}
N = 3000


def split(values: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return values[half], values[~half]


def line(name: str, floor: float, good: np.ndarray, bad: dict[str, np.ndarray]) -> dict:
    row = {"floor": round(floor, 4), "good_pass": round(float((good >= floor).mean()), 4),
           **{f"{k}_pass": round(float((v >= floor).mean()), 4) for k, v in bad.items()}}
    print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return row


def article_text(path: Path) -> str:
    return re.sub(r"^---.*?---\s*", "", path.read_text(encoding="utf-8"), flags=re.S)


def main() -> None:
    with open(BITEXT, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["response"].strip()]
    random.Random(0).shuffle(rows)
    rows = rows[:N]
    embedder = MiniLMEmbedder()
    replies = embedder.embed([r["response"] for r in rows])
    intents = np.array([r["intent"] for r in rows])
    categories = np.array([r["category"] for r in rows])
    half = np.arange(len(rows)) % 2 == 0

    # Same intent: each reply with the next reply of its intent; other intent: with a reply 7 rows on, when the intents differ.
    partner = np.array([next((j for j in list(range(i + 1, len(rows))) + list(range(i)) if intents[j] == intents[i]), i)
                        for i in range(len(rows))])
    same = (replies * replies[partner]).sum(axis=1)
    other = np.roll(np.arange(len(rows)), 7)
    cross = (replies * replies[other]).sum(axis=1)
    differs = intents[other] != intents
    same_category = differs & (categories[other] == categories)
    off_topic = replies @ embedder.embed([OFF_TOPIC_REPLY])[0]

    tune, test = split(same, half)
    chosen = float(np.quantile(tune, 0.05))
    print(f"REPLY floor: {len(rows)} Bitext replies, tuned on {half.sum()}, read on {(~half).sum()}")
    print(f"  same-intent similarity on the tuning half: 5% quantile {chosen:.3f}, median {np.median(tune):.3f}")
    held = {"other_intent": cross[~half & differs], "other_intent_same_category": cross[~half & same_category],
            "weather_reply": off_topic[~half]}
    reply_rows = [line(f"held-out at {f:.2f}", f, test, held) for f in sorted({0.4, 0.5, 0.6, 0.7, round(chosen, 2), REPLY_FLOOR})]

    articles = {p.stem: article_text(p) for p in sorted(HELP_CENTRE.glob("*.md"))}
    names = list(articles)
    vectors = dict(zip(names, embedder.embed([articles[n] for n in names])))
    covered = np.array([r["intent"] in ARTICLE_OF for r in rows])
    own = np.array([replies[i] @ vectors[ARTICLE_OF[intents[i]]] for i in range(len(rows)) if covered[i]])
    others = np.array([replies[i] @ vectors[n] for i in range(len(rows)) if covered[i] for n in names
                       if n != ARTICLE_OF[intents[i]]])
    own_half = half[covered]
    chosen_support = float(np.quantile(own[own_half], 0.02))
    others_half = np.repeat(own_half, len(names) - 1)
    print(f"SUPPORT floor: {len(own)} Bitext replies with an article, against it and the {len(names) - 1} others")
    print(f"  own-article similarity on the tuning half: 2% quantile {chosen_support:.3f}, median {np.median(own[own_half]):.3f}")
    support_rows = [line(f"held-out at {f:.2f}", f, own[~own_half], {"other_article": others[~others_half]})
                    for f in sorted({0.15, 0.2, 0.25, 0.3, round(chosen_support, 2), SUPPORT_FLOOR})]
    print(json.dumps({"rows": len(rows), "reply": {"tuned": round(chosen, 4), "packaged": REPLY_FLOOR, "table": reply_rows},
                      "support": {"tuned": round(chosen_support, 4), "packaged": SUPPORT_FLOOR, "table": support_rows}}))


if __name__ == "__main__":
    main()
