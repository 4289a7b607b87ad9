"""One interface to a batch provider: submit a file of requests, poll, fetch results.

``OpenAIBatchClient`` speaks the Batch API through the official client (OpenAI, Azure OpenAI or any
compatible provider, including `nightshift batch-server`); ``LocalBatchClient`` drives the local
batch engine in this process. Both also answer a single request synchronously, for the realtime route.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import openai

from nightshift.llm import dialects
from nightshift.llm.batch_files import CHAT_URL, LineResult, results_of
from nightshift.llm.engine import LocalBatchEngine, NotFound, Responder, offline


@dataclass(frozen=True)
class BatchState:
    id: str
    status: str
    total: int
    completed: int
    failed: int
    input_file_id: str
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

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState: ...  # uploads the file at path
    def poll(self, batch_id: str) -> BatchState: ...
    def fetch(self, state: BatchState) -> Iterator[LineResult]: ...  # the output file's lines, then the error file's
    def complete(self, body: dict) -> tuple[int, dict]: ...
    def delete_file(self, file_id: str) -> int: ...  # the bytes freed; 0 when the file was already gone


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
    def __init__(self, client: openai.OpenAI, provider: str = "openai"):
        self.client = client
        self.provider = provider
        self.complete = chat_responder(client)

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState:
        with path.open("rb") as content:
            upload = self.client.files.create(file=(filename, content), purpose="batch")
        batch = self.client.batches.create(input_file_id=upload.id, endpoint=CHAT_URL, completion_window="24h", metadata=metadata)
        return BatchState.of(batch.model_dump())

    def poll(self, batch_id: str) -> BatchState:
        return BatchState.of(self.client.batches.retrieve(batch_id).model_dump())

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

    def __init__(self, engine: LocalBatchEngine, poll_budget_s: float = 20.0):
        self.engine = engine
        self.poll_budget_s = poll_budget_s
        self.complete = engine.responder

    def submit(self, path: Path, filename: str, metadata: dict[str, str]) -> BatchState:
        upload = self.engine.copy_file(path, filename, "batch")
        return BatchState.of(self.engine.create_batch(upload["id"], CHAT_URL, "24h", metadata))

    def poll(self, batch_id: str) -> BatchState:
        return BatchState.of(self.engine.work(batch_id, deadline=time.monotonic() + self.poll_budget_s))

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
