"""The sample help centre: a short article per sample-ticket intent (nightshift/data/help_centre), for the demo."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def write_sample(folder: Path) -> list[Path]:
    """Copy the sample articles into ``folder`` unless it already holds a help centre (a user's is never touched)."""
    if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for article in sorted(resources.files("nightshift.data").joinpath("help_centre").iterdir(), key=lambda p: p.name):
        if article.name.endswith(".md"):
            target = folder / article.name
            target.write_text(article.read_text(encoding="utf-8"), encoding="utf-8")
            written.append(target)
    return written
