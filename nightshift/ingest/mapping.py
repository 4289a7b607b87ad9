"""Column mapping: which source column holds each ticket field.

Landing files come from many systems with their own column names; a mapping names them once
(``text=instruction,label=intent``) and everything downstream sees the canonical fields.
"""

from __future__ import annotations

from collections.abc import Mapping

# Canonical ticket fields. ``text`` is the ticket body; ``body`` is accepted as its alias.
# ``reference`` is a known-good reply, read only by `nightshift eval answers`.
FIELDS = ("id", "subject", "text", "created_at", "customer", "channel", "label", "priority", "reference")
ALIASES = {"body": "text"}


class MappingError(ValueError):
    """A mapping names an unknown field or is not written as field=column pairs."""


def parse_map(spec: str | None) -> dict[str, str]:
    """Parse ``field=COLUMN,field=COLUMN`` into {canonical field: source column}."""
    mapping: dict[str, str] = {}
    if not spec:
        return mapping
    for part in spec.split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        field = ALIASES.get(field.strip(), field.strip())
        if not sep or not column.strip():
            raise MappingError(f"mapping entry {part.strip()!r} is not field=COLUMN")
        if field not in FIELDS:
            raise MappingError(f"unknown field {field!r} in mapping; known: {', '.join(FIELDS)} (body = text)")
        mapping[field] = column.strip()
    return mapping


def resolve(mapping: Mapping[str, str], columns: list[str]) -> dict[str, str]:
    """The source column for each canonical field present in a file.

    A field without an explicit entry falls back to a column of its own name, so files that already
    use canonical names need no mapping. A mapped column missing from the file is an error: it means
    the mapping was written for another source and every row would be misread.
    """
    present = set(columns)
    missing = sorted(col for col in mapping.values() if col not in present)
    if missing:
        raise MappingError(f"mapped column(s) {', '.join(map(repr, missing))} not in file columns {columns}")
    resolved = {field: col for field, col in mapping.items()}
    for field in FIELDS:
        if field not in resolved and field in present:
            resolved[field] = field
    if "text" not in resolved and "body" in present and "body" not in mapping.values():
        resolved["text"] = "body"
    if "text" not in resolved and "subject" not in resolved:
        raise MappingError(f"no text column: map one with text=COLUMN (file columns: {columns})")
    return resolved
