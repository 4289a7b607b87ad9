"""One interface to a batch provider: submit a file of requests, poll, fetch results, cancel.

``OpenAIBatchClient`` speaks the Batch API through the official client (OpenAI, Azure OpenAI or any
compatible provider, including `nightshift batch-server`); ``AnthropicBatchClient`` speaks Anthropic's
Message Batches through the official ``anthropic`` client (or `nightshift batch-server`'s Anthropic routes);
``LocalBatchClient`` drives the local batch engine in this process. Each also answers a single request
synchronously, for the realtime route and for a batch that would miss its deadline. ``Providers`` holds the
client of each provider a night's models use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anthropic
import openai

from nightshift.llm import dialects
from nightshift.llm.anthropic_messages import completion_of, error_text, params_of
from nightshift.llm.batch_files import CHAT_URL, MAX_BYTES, MAX_LINES, LineResult, results_of
from nightshift.llm.engine import LocalBatchEngine, NotFound, Responder, offline


@dataclass(frozen=True)
class BatchState:
    id: str
    status: str
    total: int
    completed: int
    failed: int
    input_file_id: str | None  # None: the requests went inline (Anthropic)
    output_file_id: str | None
    error_file_id: str | None
    errors: str | None = None  # why a batch failed as a whole (validation)

    @classmethod
    def of(cls, batch: dict) -> BatchState:
        counts = batch.get("request_counts") or {}
        errors = ((batch.get("errors") or {}).get("data")) or []
        return cls(batch["id"], batch["status"], counts.get("total", 0), counts.get("completed", 0), counts.get("failed", 0),
                   batch["input_file_id"], batch.get("output_file_id"), batch.get("error_file_id"),
                   "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or None)


class BatchClient(Protocol):
    provider: str
    max_lines: int  # per batch: a day over either limit goes out as several
    max_bytes: int

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState: ...  # sends the file of lines at path
    def poll(self, batch_id: str) -> BatchState: ...
    def fetch(self, state: BatchState) -> Iterator[LineResult]: ...  # a finished batch's answered and failed lines
    def cancel(self, batch_id: str) -> BatchState: ...
    def complete(self, body: dict) -> tuple[int, dict]: ...
    def delete_file(self, file_id: str) -> int: ...  # the bytes freed; 0 when the file was already gone


class Providers:
    """The batch client of each provider (``openai``, ``anthropic``): a request goes to its model's provider, named in the
    price table, and a batch is polled through the provider it was sent to. The local engine answers every provider's
    models, so a local night maps both names to it."""

    def __init__(self, clients: Mapping[str, BatchClient]):
        self.clients = dict(clients)

    def __getitem__(self, provider: str) -> BatchClient:
        if provider in self.clients:
            return self.clients[provider]
        if provider != "anthropic" and "openai" in self.clients:
            # A batch recorded before providers were named carries its client's name: local, or an OpenAI base URL.
            return self.clients["openai"]
        raise KeyError(f"no client for provider {provider!r} is configured (have {sorted(self.clients)}); "
                       "set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL) for Claude models")


def chat_responder(client: openai.OpenAI, dialect: str = dialects.JSON_SCHEMA) -> Responder:
    """Answer one chat request synchronously, its structured output asked for in the endpoint's ``dialect``;
    errors come back as (status, error body), never raised."""

    def respond(body: dict) -> tuple[int, dict]:
        try:
            sent = dialects.adapt(body, dialect)
            return 200, client.chat.completions.create(**sent).model_dump(mode="json", exclude_none=True)
        except openai.APIStatusError as exc:
            return exc.status_code, {"error": {"message": str(exc.message), "type": "upstream_error"}}
        except openai.APIConnectionError as exc:
            return 503, {"error": {"message": f"chat endpoint unreachable: {exc}", "type": "upstream_error"}}

    return respond


def responder_for(chat_url: str | None, api_key: str | None = None, dialect: str = dialects.JSON_SCHEMA,
                  **client_options) -> Responder:
    """Who answers a line: the chat endpoint at ``chat_url`` (vLLM, Ollama, llama.cpp server), or the offline responder."""
    if not chat_url:
        return offline
    return chat_responder(openai.OpenAI(base_url=chat_url, api_key=api_key or "unused", **client_options), dialect)


class OpenAIBatchClient:
    provider = "openai"
    max_lines, max_bytes = MAX_LINES, MAX_BYTES

    def __init__(self, client: openai.OpenAI):
        self.client = client
        self.complete = chat_responder(client)

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState:
        with path.open("rb") as content:
            upload = self.client.files.create(file=(filename, content), purpose="batch")
        batch = self.client.batches.create(input_file_id=upload.id, endpoint=CHAT_URL, completion_window="24h", metadata=metadata)
        return BatchState.of(batch.model_dump())

    def poll(self, batch_id: str) -> BatchState:
        return BatchState.of(self.client.batches.retrieve(batch_id).model_dump())

    def cancel(self, batch_id: str) -> BatchState:
        return BatchState.of(self.client.batches.cancel(batch_id).model_dump())

    def fetch(self, state: BatchState) -> Iterator[LineResult]:
        for file_id in (state.output_file_id, state.error_file_id):
            if file_id:
                yield from results_of(self.client.files.content(file_id).iter_lines())

    def delete_file(self, file_id: str) -> int:
        try:
            size = self.client.files.retrieve(file_id).bytes
            self.client.files.delete(file_id)
        except openai.NotFoundError:
            return 0
        return size


class LocalBatchClient:
    """The engine in this process: a poll runs lines for up to ``poll_budget_s``, so polling is what drives it."""

    provider = "local"
    max_lines, max_bytes = MAX_LINES, MAX_BYTES

    def __init__(self, engine: LocalBatchEngine, poll_budget_s: float = 20.0):
        self.engine = engine
        self.poll_budget_s = poll_budget_s
        self.complete = engine.responder

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState:
        upload = self.engine.copy_file(path, filename, "batch")
        return BatchState.of(self.engine.create_batch(upload["id"], CHAT_URL, "24h", metadata))

    def poll(self, batch_id: str) -> BatchState:
        return BatchState.of(self.engine.work(batch_id, deadline=time.monotonic() + self.poll_budget_s))

    def cancel(self, batch_id: str) -> BatchState:
        return BatchState.of(self.engine.cancel(batch_id))

    def fetch(self, state: BatchState) -> Iterator[LineResult]:
        for file_id in (state.output_file_id, state.error_file_id):
            if file_id:
                with self.engine.open_file(file_id) as lines:
                    yield from results_of(lines)

    def delete_file(self, file_id: str) -> int:
        try:
            size = self.engine.file(file_id)["bytes"]
        except NotFound:
            return 0
        self.engine.delete_file(file_id)
        return size


def message_batch_state(batch: dict) -> BatchState:
    """An Anthropic Message Batch as the ledger records a batch: no files (requests go inline, results come from the batch).
    An ended batch is cancelled when a cancel was asked, expired when some requests expired, and completed otherwise; its
    counts are final only once it ended."""
    counts = batch["request_counts"]
    status = {"in_progress": "in_progress", "canceling": "cancelling"}.get(batch["processing_status"])
    if status is None:
        status = "cancelled" if batch.get("cancel_initiated_at") else "expired" if counts["expired"] else "completed"
    return BatchState(batch["id"], status, sum(counts.values()), counts["succeeded"], counts["errored"], None, None, None)


class AnthropicBatchClient:
    """Message Batches through the official client: the requests go inline (no files), results stream as JSONL."""

    provider = "anthropic"
    # Per batch, from the Message Batches reference: 100,000 requests or 256 MB. Lines are measured as written, before the
    # translation adds a tool and a sentence to each (a few per cent), so a tenth of the bytes is left for it.
    max_lines, max_bytes = 100_000, 256 * 1024 * 1024 * 9 // 10

    def __init__(self, client: anthropic.Anthropic):
        self.client = client

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState:
        with path.open(encoding="utf-8") as lines:
            requests = [{"custom_id": line["custom_id"], "params": params_of(line["body"])} for line in map(json.loads, lines)]
        return message_batch_state(self.client.messages.batches.create(requests=requests).model_dump(mode="json"))  # type: ignore[arg-type]

    def poll(self, batch_id: str) -> BatchState:
        return message_batch_state(self.client.messages.batches.retrieve(batch_id).model_dump(mode="json"))

    def cancel(self, batch_id: str) -> BatchState:
        return message_batch_state(self.client.messages.batches.cancel(batch_id).model_dump(mode="json"))

    def fetch(self, state: BatchState) -> Iterator[LineResult]:
        """Succeeded and errored requests; canceled and expired ones never ran, and the ledger records them so from the
        batch's own status."""
        for line in self.client.messages.batches.results(state.id):
            result = line.result.model_dump(mode="json")
            if result["type"] == "succeeded":
                yield LineResult(line.custom_id, completion_of(result["message"]), None)
            elif result["type"] == "errored":
                yield LineResult(line.custom_id, None, error_text(result["error"]))

    def complete(self, body: dict) -> tuple[int, dict]:
        try:
            message = self.client.messages.create(**params_of(body))
        except anthropic.APIStatusError as exc:
            return exc.status_code, {"error": {"message": str(exc.message), "type": "upstream_error"}}
        except anthropic.APIConnectionError as exc:
            return 503, {"error": {"message": f"messages endpoint unreachable: {exc}", "type": "upstream_error"}}
        return 200, completion_of(message.model_dump(mode="json"))

    def delete_file(self, file_id: str) -> int:
        return 0  # no files: Anthropic keeps a batch's results for 29 days and deletes them itself
