"""The day's themes (clusters of its tickets) and spikes (categories that rose against the trailing week)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.cluster import KMeans

from nightshift.lib.markdown import markdown_table

MAX_THEMES = 8
# Themes are found on at most this many of the day's tickets (a fixed sample by id); eight centres need no more, and
# a 100,000-ticket day then costs what a 20,000-ticket one does.
SAMPLE = 20_000
TRAILING_DAYS = 7  # what "before" means for spikes and for the category-mix drift
EXAMPLES = 3


@dataclass(frozen=True)
class Theme:
    size: int
    category: str           # the most common predicted category in the cluster
    examples: list[str]     # ticket ids nearest the cluster centre
    texts: list[str]        # their redacted texts, shortened


@dataclass(frozen=True)
class Spike:
    category: str
    today: float            # share of today's tickets
    trailing: float         # share over the trailing days


def themes(vectors: np.ndarray, ids: list[str], texts: list[str], categories: list[str], day_size: int | None = None) -> list[Theme]:
    """k-means over the embeddings, k growing with the square root of the day's size, largest theme first. When the
    tickets are a sample of a day of ``day_size``, each theme's size is scaled up to the day."""
    n = len(ids)
    if n == 0:
        return []
    scale = (day_size or n) / n
    k = max(1, min(MAX_THEMES, int(np.sqrt(n * scale / 2)), n))
    model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(vectors)
    found = []
    for c in range(k):
        members = np.flatnonzero(model.labels_ == c)
        nearest = members[np.argsort(np.linalg.norm(vectors[members] - model.cluster_centers_[c], axis=1))][:EXAMPLES]
        found.append(Theme(round(len(members) * scale), Counter(categories[i] for i in members).most_common(1)[0][0],
                           [ids[i] for i in nearest], [" ".join(texts[i].split())[:200] for i in nearest]))
    return sorted(found, key=lambda t: (-t.size, t.category))


def spikes(today: Counter, trailing: Counter, min_share: float = 0.05, ratio: float = 1.5) -> list[Spike]:
    """Categories whose share today is at least ``min_share`` and ``ratio`` times their trailing share."""
    n_today, n_trailing = sum(today.values()), sum(trailing.values())
    if not n_today or not n_trailing:
        return []
    found = []
    for category, count in today.items():
        share, before = count / n_today, trailing.get(category, 0) / n_trailing
        if share >= min_share and share >= ratio * max(before, 1 / n_trailing):
            found.append(Spike(category, share, before))
    return sorted(found, key=lambda s: s.today - s.trailing, reverse=True)


def describe(found: list[Theme], rising: list[Spike]) -> tuple[str, str]:
    """Plain-text descriptions of the clusters and spikes, as the digest prompt takes them."""
    clusters = "\n".join(
        f"- {t.size} tickets, mostly {t.category}. Examples: " + " | ".join(f'"{x}"' for x in t.texts) for t in found
    )
    rises = "\n".join(f"- {s.category}: {s.today:.0%} of today's tickets, {s.trailing:.0%} over the trailing week" for s in rising)
    return clusters, rises


def markdown(day: str, headline: str | None, found: list[Theme], rising: list[Spike], written: dict | None) -> str:
    """The digest as a person reads it in the UI: the model's text when there is one, and the figures."""
    lines = [f"## Digest for {day}", "", f"**{headline or 'no digest text yet'}**", ""]
    said = {headline}
    for theme in (written or {}).get("themes", []):
        # A theme says only what is not said above it (a model, or the offline responder, may repeat its headline).
        parts = []
        for text in (theme["title"], theme["summary"]):
            if text and text not in said:
                parts.append(text)
                said.add(text)
        if parts:
            lines.append("- " + ": ".join([f"**{parts[0]}**", *parts[1:]]))
    lines += ["", markdown_table(("theme", "tickets", "category", "example tickets"),
                                 [(i + 1, t.size, t.category, ", ".join(t.examples)) for i, t in enumerate(found)])]
    if rising:
        lines += ["", "Spikes against the trailing week:", ""]
        lines += [f"- {s.category}: {s.today:.0%} today, {s.trailing:.0%} before" for s in rising]
    return "\n".join(lines)


def as_row(day, tickets: int, found: list[Theme], rising: list[Spike]) -> dict:
    """The material as stored once (DuckDB `digest_material`) and read back by whoever writes the digest up."""
    return {"day": day, "tickets": tickets, "themes": json.dumps([asdict(t) for t in found]),
            "spikes": json.dumps([asdict(s) for s in rising])}


def from_row(row: dict | None) -> tuple[list[Theme], list[Spike], int]:
    if row is None:
        return [], [], 0
    return [Theme(**t) for t in json.loads(row["themes"])], [Spike(**s) for s in json.loads(row["spikes"])], row["tickets"]
