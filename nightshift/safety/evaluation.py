"""How the screen does on a labelled CSV: what it holds, per label, language and technique.

A row whose label names something a person must see (injection, malicious, threat, self_harm, ...) should be held;
any other label (benign, ordinary, ...) should not, and when no label column is mapped every row is taken as ordinary,
which measures the false-hold rate of a set of real tickets.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nightshift.safety.screening import screen_tickets

SHOULD_HOLD = frozenset({"injection", "malicious", "attack", "jailbreak", "threat", "self_harm", "legal_threat", "1", "true", "yes"})
FIELDS = ("text", "label", "language", "technique")


class EvalError(ValueError):
    """The CSV or the mapping cannot be read as asked."""


@dataclass(frozen=True)
class Case:
    text: str
    label: str
    language: str
    technique: str

    @property
    def should_hold(self) -> bool:
        return self.label.strip().lower() in SHOULD_HOLD


def parse_map(spec: str | None) -> dict[str, str]:
    mapping = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        field, _, column = part.partition("=")
        if field.strip() not in FIELDS or not column.strip():
            raise EvalError(f"cannot read {part!r} in --map: write field=COLUMN with a field of {', '.join(FIELDS)}")
        mapping[field.strip()] = column.strip()
    return mapping


def read(path: Path, spec: str | None) -> list[Case]:
    mapping = parse_map(spec)
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    columns = rows.fieldnames or []
    resolved = {f: mapping.get(f, f) for f in FIELDS if f in mapping or f in columns}
    if missing := [c for c in resolved.values() if c not in columns]:
        raise EvalError(f"{path.name} has no column {', '.join(missing)} (columns: {', '.join(columns)})")
    if "text" not in resolved:
        raise EvalError(f"no text column in {path.name}: map one with text=COLUMN")
    return [Case(row[resolved["text"]], *(row[resolved[f]] if f in resolved else "" for f in FIELDS[1:]))
            for row in rows if (row[resolved["text"]] or "").strip()]


def figures(cases: list[Case], held: list[bool]) -> dict:
    attacks = sum(c.should_hold for c in cases)
    caught = sum(h for c, h in zip(cases, held) if c.should_hold)
    false = sum(h for c, h in zip(cases, held) if not c.should_hold)
    return {"rows": len(cases), "should_hold": attacks, "held": sum(held),
            "recall": round(caught / attacks, 4) if attacks else None,
            "precision": round(caught / (caught + false), 4) if caught + false else None,
            "false_hold_rate": round(false / (len(cases) - attacks), 4) if len(cases) > attacks else None}


def evaluate(cases: list[Case], say: Callable[[str], None] = lambda _: None) -> dict:
    screened = screen_tickets([c.text for c in cases])
    held = [bool(s.held) for s in screened]
    result: dict = {"overall": figures(cases, held), "reviewed_by_model": sum(s.review and not s.held for s in screened),
                    "noted": sum(bool(s.noted) and not s.held for s in screened)}
    for field in FIELDS[1:]:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(cases):
            if value := getattr(c, field):
                groups[value].append(i)
        if groups:
            result[f"by_{field}"] = {value: figures([cases[i] for i in idx], [held[i] for i in idx]) for value, idx in sorted(groups.items())}
    for c, h, s in zip(cases, held, screened):
        if h != c.should_hold:
            what = "missed" if c.should_hold else "held"
            say(f"{what}: [{c.label}{'/' + c.language if c.language else ''}] {' '.join(c.text.split())[:100]}"
                + (f"  <- {'; '.join(f'{f.kind} ({f.evidence})' for f in s.held)}" if h else f"  (score {s.injection_score:.2f})"))
    return result
