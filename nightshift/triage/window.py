"""What the nightly triage model learns from: a bounded window of recent tickets, and when it is worth retraining.

Training on all history makes every night slower than the one before (a year at 10,000 tickets a day is 3.65
million tickets to read and fit). The window keeps, per label, the latest ``per_label`` labelled tickets of the
last ``days`` days, plus as many unlabelled ones (they feed the priority model and the out-of-distribution
signal), so a night's training cost depends on the number of labels, not on the age of the deployment. On
banking77 accuracy stops improving well below the default of 200 per label (README, "Bounded training").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingWindow:
    per_label: int = 200        # latest labelled tickets kept per label (and unlabelled ones kept in all)
    days: int = 90              # nothing older than this trains tonight's model
    retrain_share: float = 0.2  # retrain once this share of the window is tickets the current model never saw

    def retrain_reason(self, window_ids: Sequence[str], window_labels: set[str], seen_ids: set[str],
                       seen_labels: set[str]) -> str | None:
        """Why the model trained on ``seen_ids`` (with labels ``seen_labels``) should not serve this window; None: reuse it."""
        if window_labels != seen_labels:
            return f"labels changed: {len(window_labels - seen_labels)} new, {len(seen_labels - window_labels)} gone"
        new = sum(1 for ticket_id in window_ids if ticket_id not in seen_ids) / max(len(window_ids), 1)
        if new >= self.retrain_share:
            return f"{new:.0%} of the window is new (retrain at {self.retrain_share:.0%})"
        return None


def latest_per_label(labels: Sequence[str | None], per_label: int) -> list[int]:
    """Indices of the last ``per_label`` rows of each label in arrival order (the window's rule, for a file)."""
    kept: dict[str | None, list[int]] = {}
    for i in range(len(labels) - 1, -1, -1):
        rows = kept.setdefault(labels[i], [])
        if len(rows) < per_label:
            rows.append(i)
    return sorted(i for rows in kept.values() for i in rows)
