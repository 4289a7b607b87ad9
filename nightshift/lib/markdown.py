"""Markdown tables, as the Dagster UI renders metadata and as the README shows them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "none") -> str:
    """A pipe table; ``empty`` when there are no rows."""
    body = ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    if not body:
        return empty
    return "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers), *body])
