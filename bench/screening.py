"""The safety screen measured on data it was not fitted on: the README's tables.

    python -m bench.screening [--cases FILE.csv ...]

- false holds on ../shared/data (Bitext, banking77, Hadoop bug reports): every row, and the rows of the classifier's
  test split alone (never trained on, never used to choose its operating points);
- bastioncorpus 0.6.0, per language and technique (never trained on; half of it chose the operating points, so the
  other half is the one to quote);
- any labelled CSV given with --cases (columns text, label and, optionally, language, technique).
Prints a table per set and one JSON line last.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from importlib import resources
from pathlib import Path

from nightshift.safety.evaluation import Case, evaluate, read
from nightshift.safety.training import LOOK_ALIKES, Row, shared_rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def bastioncorpus(half: str | None = None) -> list[Case]:
    """Its rows as cases; ``half``: only those of the half that chose the operating points ('validation') or of the
    half that never took part ('test')."""
    lines = resources.files("bastioncorpus").joinpath("corpus/injections.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [Case(r["text"], r["label"], r["lang"], r["category"]) for r in rows
            if half is None or Row(r["text"], False, LOOK_ALIKES, r["id"]).split == half]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, action="append", default=[])
    args = parser.parse_args()
    results: dict = {}
    ordinary = shared_rows(DATA) if DATA.exists() else []
    for source in sorted({r.source for r in ordinary}):
        rows = [r for r in ordinary if r.source == source]
        for part, chosen in (("all", rows), ("test split", [r for r in rows if r.split == "test"])):
            held: list[str] = []
            result = evaluate([Case(r.text, "ordinary", "", "") for r in chosen], held.append)
            kinds = Counter(line.split("<- ")[1].split(" (")[0] for line in held if "<- " in line)
            results[f"{source} ({part})"] = {**result["overall"], "held_by_kind": dict(kinds), "examples": held[:5]}
    sets = {"bastioncorpus (test half)": bastioncorpus("test"), "bastioncorpus (all)": bastioncorpus(),
            **{path.name: read(path, None) for path in args.cases}}
    for name, cases in sets.items():
        results[name] = evaluate(cases)
    for name, result in results.items():
        print(f"\n{name}: {json.dumps({k: v for k, v in result.get('overall', result).items() if k != 'examples'})}")
        for key in ("by_label", "by_language", "by_technique"):
            for value, f in result.get(key, {}).items():
                print(f"  {key[3:]:>9} {value:<22} rows {f['rows']:>4}  held {f['held']:>4}  recall {f['recall']}  "
                      f"false-hold {f['false_hold_rate']}")
        for line in result.get("examples", []):
            print(f"  {line}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
