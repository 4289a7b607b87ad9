"""`nightshift batch-server`: the local batch engine behind the OpenAI Files, Batches and Chat routes, and behind
Anthropic's Message Batches and Messages routes.

Any OpenAI client (the official one included) can upload a batch file, create and poll a batch,
download its output and error files and cancel it, against a self-hosted chat endpoint or the
offline responder; the official Anthropic client can create, poll, cancel and read the results of a
Message Batch, and send one message, against the same engine. A worker thread runs in-flight batches
in the background, as a provider would.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from nightshift.llm.anthropic_messages import chat_of, message_of
from nightshift.llm.batch_files import CHAT_URL
from nightshift.llm.engine import TERMINAL, LocalBatchEngine, NotFound

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status_code=status)


def anthropic_error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status_code=status)


def rfc3339(seconds: int | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def message_batch(batch: dict, base_url: str) -> dict:
    """An engine batch as a Message Batch: counts split by outcome once it ended, and the URL of its results."""
    total, done = batch["request_counts"]["total"], batch["request_counts"]
    status = batch["status"]
    ended = status in TERMINAL
    unrun = total - done["completed"] - done["failed"] if ended else 0
    return {
        "id": batch["id"], "type": "message_batch",
        "processing_status": "ended" if ended else "canceling" if status == "cancelling" else "in_progress",
        "request_counts": {"processing": 0 if ended else total, "succeeded": done["completed"] if ended else 0,
                           "errored": done["failed"] if ended else 0, "canceled": unrun if status == "cancelled" else 0,
                           "expired": unrun if status != "cancelled" else 0},
        "created_at": rfc3339(batch["created_at"]), "expires_at": rfc3339(batch["expires_at"]),
        "ended_at": rfc3339(batch.get(f"{status}_at")) if ended else None,
        "cancel_initiated_at": rfc3339(batch.get("cancelling_at")), "archived_at": None,
        "results_url": f"{base_url}v1/messages/batches/{batch['id']}/results" if ended else None,
    }


def message_results(engine: LocalBatchEngine, batch: dict) -> Iterator[bytes]:
    """One result line per request, in request order: succeeded or errored as it ran, canceled or expired if it never did."""
    finished: dict[str, dict] = {}
    for key in ("output_file_id", "error_file_id"):
        if batch.get(key):
            with engine.open_file(batch[key]) as lines:
                finished.update((row["custom_id"], row["response"]) for row in map(json.loads, lines))
    never: dict = {"type": "canceled"} if batch["status"] == "cancelled" else {"type": "expired"}
    with engine.open_file(batch["input_file_id"]) as lines:
        for line in map(json.loads, lines):
            response = finished.get(line["custom_id"])
            result: dict
            if response is None:
                result = never
            elif response["status_code"] == 200:
                result = {"type": "succeeded", "message": message_of(response["body"], line["params"])}
            else:
                # Anthropic's error types: a server's failure is an api_error, a refusal of the request an invalid_request_error.
                kind = "api_error" if response["status_code"] >= 500 else "invalid_request_error"
                message = ((response["body"] or {}).get("error") or {}).get("message", "")
                result = {"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": message}}}
            yield (json.dumps({"custom_id": line["custom_id"], "result": result}) + "\n").encode()


def create_app(engine: LocalBatchEngine, token: str | None = None) -> Starlette:
    async def upload(request: Request) -> Response:
        async with request.form() as form:
            upload, purpose = form.get("file"), form.get("purpose")
            if upload is None or isinstance(upload, str):
                return error(400, "expected a multipart 'file' field")
            if purpose != "batch":
                return error(400, f"purpose must be 'batch', got {purpose!r}")
            return JSONResponse(engine.create_file(await upload.read(), upload.filename or "upload.jsonl", purpose))

    async def file_meta(request: Request) -> Response:
        return JSONResponse(engine.file(request.path_params["file_id"]))

    async def file_content(request: Request) -> Response:
        return Response(engine.file_content(request.path_params["file_id"]), media_type="application/jsonl")

    async def delete_file(request: Request) -> Response:
        return JSONResponse(engine.delete_file(request.path_params["file_id"]))

    async def create_batch(request: Request) -> Response:
        body = await request.json()
        if body.get("endpoint") != "/v1/chat/completions":
            return error(400, f"endpoint {body.get('endpoint')!r} is not served here; use /v1/chat/completions")
        if body.get("completion_window") != "24h":
            return error(400, "completion_window must be '24h'")
        return JSONResponse(engine.create_batch(body["input_file_id"], body["endpoint"], "24h", body.get("metadata")))

    async def get_batch(request: Request) -> Response:
        return JSONResponse(engine.batch(request.path_params["batch_id"]))

    async def cancel_batch(request: Request) -> Response:
        return JSONResponse(engine.cancel(request.path_params["batch_id"]))

    async def list_batches(request: Request) -> Response:
        data = engine.batches()[::-1][: int(request.query_params.get("limit", 20))]
        return JSONResponse({"object": "list", "data": data, "has_more": False,
                             "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})

    async def chat(request: Request) -> Response:
        status, body = engine.complete(await request.json())
        return JSONResponse(body, status_code=status)

    # -- Anthropic: Message Batches and Messages. A batch's requests are stored as the engine's input file, each line the
    # chat request it asks with the Messages parameters beside it, so results are written back in Anthropic's shape.

    async def create_message_batch(request: Request) -> Response:
        requests = (await request.json()).get("requests") or []
        ids = [r.get("custom_id") for r in requests]
        if not requests or len(requests) > 100_000:
            return anthropic_error(400, f"a batch holds 1 to 100,000 requests, got {len(requests)}")
        if not all(ids) or len(set(ids)) != len(ids) or not all(isinstance(r.get("params"), dict) for r in requests):
            return anthropic_error(400, "every request needs a unique custom_id and its params")
        lines = (json.dumps({"custom_id": r["custom_id"], "method": "POST", "url": CHAT_URL, "body": chat_of(r["params"]),
                             "params": r["params"]}) for r in requests)
        stored = engine.create_file("\n".join(lines).encode(), "message-batch.jsonl", "batch")
        batch = engine.create_batch(stored["id"], CHAT_URL, "24h", {"protocol": "anthropic"})
        return JSONResponse(message_batch(batch, str(request.base_url)))

    async def get_message_batch(request: Request) -> Response:
        return JSONResponse(message_batch(engine.batch(request.path_params["batch_id"]), str(request.base_url)))

    async def cancel_message_batch(request: Request) -> Response:
        return JSONResponse(message_batch(engine.cancel(request.path_params["batch_id"]), str(request.base_url)))

    async def message_batch_results(request: Request) -> Response:
        batch = engine.batch(request.path_params["batch_id"])
        if batch["status"] not in TERMINAL:
            return anthropic_error(400, f"batch {batch['id']} has not ended")
        return StreamingResponse(message_results(engine, batch), media_type="application/x-jsonl")

    async def message(request: Request) -> Response:
        params = await request.json()
        status, body = engine.complete(chat_of(params))
        if status != 200:
            return anthropic_error(status, (body.get("error") or {}).get("message", "no detail"), "api_error")
        return JSONResponse(message_of(body, params))

    routes = [
        Route("/v1/messages/batches", create_message_batch, methods=["POST"]),
        Route("/v1/messages/batches/{batch_id}", get_message_batch, methods=["GET"]),
        Route("/v1/messages/batches/{batch_id}/cancel", cancel_message_batch, methods=["POST"]),
        Route("/v1/messages/batches/{batch_id}/results", message_batch_results, methods=["GET"]),
        Route("/v1/messages", message, methods=["POST"]),
        Route("/v1/files", upload, methods=["POST"]),
        Route("/v1/files/{file_id}", file_meta, methods=["GET"]),
        Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
        Route("/v1/batches", create_batch, methods=["POST"]),
        Route("/v1/batches", list_batches, methods=["GET"]),
        Route("/v1/batches/{batch_id}", get_batch, methods=["GET"]),
        Route("/v1/batches/{batch_id}/cancel", cancel_batch, methods=["POST"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/v1/messages"):
            return anthropic_error(404, str(exc).strip("'\""), "not_found_error")
        return error(404, str(exc).strip("'\""))

    middleware = []
    if token:
        expected = f"Bearer {token}".encode()

        async def bearer(request: Request, call_next):
            # OpenAI's clients send the token as a bearer; Anthropic's as x-api-key.
            given = request.headers.get("authorization", "").encode()
            key = f"Bearer {request.headers.get('x-api-key', '')}".encode()
            if not (hmac.compare_digest(given, expected) or hmac.compare_digest(key, expected)):
                return error(401, "missing or wrong bearer token", "authentication_error")
            return await call_next(request)

        middleware.append(Middleware(BaseHTTPMiddleware, dispatch=bearer))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={NotFound: not_found})
    return app


def work_forever(engine: LocalBatchEngine, stop: threading.Event, slice_s: float = 1.0) -> None:
    """Advance every in-flight batch a slice at a time, oldest first, until ``stop`` is set."""
    while not stop.is_set():
        busy = [b["id"] for b in engine.batches() if b["status"] not in TERMINAL]
        for batch_id in busy:
            engine.work(batch_id, deadline=time.monotonic() + slice_s)
            if stop.is_set():
                return
        if not busy:
            stop.wait(0.1)


class BatchServer:
    """The app and its worker, run by uvicorn in a thread; ``serve`` blocks, ``running`` is for tests."""

    def __init__(self, engine: LocalBatchEngine, host: str = "127.0.0.1", port: int = 8700, token: str | None = None):
        self.engine = engine
        self.server = uvicorn.Server(uvicorn.Config(create_app(engine, token), host=host, port=port, log_level="warning", lifespan="off"))
        self.stop = threading.Event()

    @property
    def base_url(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/v1"

    def serve(self) -> None:
        worker = threading.Thread(target=work_forever, args=(self.engine, self.stop), daemon=True)
        worker.start()
        try:
            self.server.run()
        finally:
            self.stop.set()
            worker.join()

    @contextmanager
    def running(self) -> Iterator[BatchServer]:
        thread = threading.Thread(target=self.serve, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("batch server did not start")
            time.sleep(0.02)
        try:
            yield self
        finally:
            self.server.should_exit = True
            thread.join(timeout=10)
