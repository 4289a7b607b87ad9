"""`nightshift batch-server`: the local batch engine behind the OpenAI Files, Batches and Chat routes.

Any OpenAI client (the official one included) can upload a batch file, create and poll a batch,
download its output and error files and cancel it, against a self-hosted chat endpoint or the
offline responder. A worker thread runs in-flight batches in the background, as a provider would.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nightshift.llm.engine import TERMINAL, LocalBatchEngine, NotFound

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status_code=status)


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

    routes = [
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
        return error(404, str(exc).strip("'\""))

    middleware = []
    if token:
        expected = f"Bearer {token}".encode()

        async def bearer(request: Request, call_next):
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
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
