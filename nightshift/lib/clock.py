"""One clock for every stored timestamp: UTC, naive, as DuckDB's TIMESTAMP holds it."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
