"""Counts in words: "1 day", "2 days"."""


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and the noun, in the plural unless n is 1 ("1 batch", "3 batches" with many="batches")."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"
