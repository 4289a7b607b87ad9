"""Redaction, the independent leak detector and the reply policy, measured on labelled cases they were not written against.

    python -m bench.privacy --pii FILE.csv       # columns text, identifier, kind (kind 'none': a look-alike to keep)
    python -m bench.privacy --replies FILE.csv   # columns reply, label ('commitment' or 'ok'), language

Per kind: how many identifiers redaction removed, how many of those it left the independent detector found (what the
outbound checks would report), and how many look-alikes redaction removed for nothing. Per language: how many
commitments the reply policy held, and how many ordinary replies it held. One JSON line last.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

from nightshift.ingest.redaction import redact
from nightshift.safety.leaks import findings
from nightshift.safety.outbound import violations


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def pii(path: Path) -> dict:
    per_kind: dict[str, dict] = defaultdict(lambda: {"rows": 0, "redacted": 0, "left_but_detected": 0, "left_unseen": []})
    for row in rows(path):
        kind, value, text = row["kind"], row["identifier"], row["text"]
        out = redact(text).text
        tally = per_kind[kind]
        tally["rows"] += 1
        if kind == "none":
            tally["redacted"] += out != text  # a look-alike changed: removed for nothing
        elif value not in out:
            tally["redacted"] += 1
        elif any(f.start < out.index(value) + len(value) and out.index(value) < f.end for f in findings(out)):
            tally["left_but_detected"] += 1
        else:
            tally["left_unseen"].append(value[:4] + "…")
    return dict(per_kind)


def replies(path: Path) -> dict:
    """Held on the small model's route (no money at all) and on the frontier's (money above the limit)."""
    per_language: dict[str, dict] = defaultdict(lambda: {"commitments": 0, "held_small_model": 0, "held_frontier": 0, "ok": 0,
                                                          "ok_held_small_model": 0, "ok_held_frontier": 0})
    for row in rows(path):
        tally = per_language[row["language"]]
        prefix = "" if row["label"] == "commitment" else "ok_"
        tally["commitments" if not prefix else "ok"] += 1
        for route in ("small_model", "frontier"):
            tally[f"{prefix}held_{route}"] += bool(violations(row["reply"], route))
    return dict(per_language)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pii", type=Path)
    parser.add_argument("--replies", type=Path)
    args = parser.parse_args()
    result: dict = {}
    if args.pii:
        result["pii"] = pii(args.pii)
        for kind, t in sorted(result["pii"].items()):
            print(f"{kind:<22} rows {t['rows']:>3}  redacted {t['redacted']:>3}  left, caught by the outbound check "
                  f"{t['left_but_detected']:>2}  left unseen {len(t['left_unseen']):>2} {' '.join(t['left_unseen'])}")
    if args.replies:
        result["replies"] = replies(args.replies)
        for language, t in sorted(result["replies"].items()):
            print(f"{language}: commitments held {t['held_small_model']}/{t['commitments']} on the small model's route, "
                  f"{t['held_frontier']} on the frontier's; ordinary replies held {t['ok_held_small_model']}/{t['ok']}, "
                  f"{t['ok_held_frontier']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
