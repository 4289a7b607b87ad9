"""Batch API files: request lines in, output and error lines out, split to the provider's limits.

The format is OpenAI's (and every compatible provider's): one JSON object per line. An input line is
``{"custom_id", "method", "url", "body"}``; an output or error line is
``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

CHAT_URL: Final = "/v1/chat/completions"
# Per input file, from the Batch API reference; a day over either limit goes out as several batches.
MAX_LINES = 50_000
MAX_BYTES = 200 * 1024 * 1024


def request_hash(body: dict) -> str:
    """Identifies a request by what it asks: same ticket, prompt version and model give the same hash."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def request_json(custom_id: str, body: str) -> str:
    """One input line from a body already encoded as JSON (as the ledger stores it): nothing is parsed again."""
    return f'{{"custom_id": {json.dumps(custom_id)}, "method": "POST", "url": "{CHAT_URL}", "body": {body}}}'


def split(lines: Iterable[str], directory: Path, max_lines: int = MAX_LINES, max_bytes: int = MAX_BYTES) -> Iterator[tuple[Path, int]]:
    """Writes the JSONL lines to files in ``directory`` of at most ``max_lines`` lines and ``max_bytes`` bytes each, in
    order; yields each file with its line count once written, before the next is begun, so no part is ever in memory."""
    directory.mkdir(parents=True, exist_ok=True)
    out: IO[bytes] | None = None
    count = size = 0
    parts = 0
    path = directory
    for number, line in enumerate(lines, start=1):
        encoded = (line + "\n").encode()
        if len(encoded) > max_bytes:
            raise ValueError(f"request line {number} alone is {len(encoded)} bytes, over the {max_bytes}-byte file limit")
        if out is not None and (count == max_lines or size + len(encoded) > max_bytes):
            out.close()
            yield path, count
            out = None
        if out is None:
            path, count, size, parts = directory / f"part-{parts}.jsonl", 0, 0, parts + 1
            out = path.open("wb")
        out.write(encoded)
        count += 1
        size += len(encoded)
    if out is not None:
        out.close()
        yield path, count


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # every input token, cache reads and writes included
    cached_tokens: int = 0  # read from the prompt cache
    output_tokens: int = 0
    written_tokens: int = 0  # written to the prompt cache (Anthropic bills them above input)


@dataclass(frozen=True)
class LineResult:
    """What became of one request: a response body, or why there is none."""

    custom_id: str
    body: dict | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def usage(self) -> Usage:
        return usage_of(self.body or {})


def usage_of(body: dict) -> Usage:
    """Token usage of a chat completion; a provider that reports none is billed nothing here. ``cache_write_tokens`` is
    nightshift's own detail, set when an Anthropic message is read as a chat completion (anthropic_messages)."""
    usage = body.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    return Usage(int(usage.get("prompt_tokens") or 0), int(details.get("cached_tokens") or 0),
                 int(usage.get("completion_tokens") or 0), int(details.get("cache_write_tokens") or 0))


def parse_line(line: dict) -> LineResult:
    response = line.get("response") or {}
    body = response.get("body")
    status = response.get("status_code")
    if line.get("error"):
        error = line["error"]
        return LineResult(line["custom_id"], body, f"{error.get('code', 'error')}: {error.get('message', '')}".strip())
    if status != 200:
        detail = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        return LineResult(line["custom_id"], body, f"HTTP {status}: {detail.get('message', 'no detail')}")
    return LineResult(line["custom_id"], body, None)


def results_of(lines: Iterable[bytes | str]) -> Iterator[LineResult]:
    """The results in a batch output or error file's lines, one at a time: a night's file is hundreds of MB."""
    return (parse_line(json.loads(raw)) for raw in lines if raw.strip())


def parse_results(output: bytes | str | None, errors: bytes | str | None) -> dict[str, LineResult]:
    """Every line of a batch's output and error files, by custom_id."""
    return {r.custom_id: r for text in (output, errors) for r in results_of((text or "").splitlines())}
