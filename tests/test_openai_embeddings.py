"""OpenAI embeddings through the real openai client, against a loopback server speaking /v1/embeddings."""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import numpy as np
import pytest

from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.vector_store import EMBEDDINGS as TABLE

DIM = 8


def fake_vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return np.random.default_rng(seed).standard_normal(DIM).astype("<f4")


class EmbeddingsHandler(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        encode = (lambda v: base64.b64encode(v.tobytes()).decode()) if body.get("encoding_format") == "base64" else (lambda v: v.tolist())
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        payload = {
            "object": "list", "model": body["model"],
            "data": [{"object": "embedding", "index": i, "embedding": encode(fake_vector(t))} for i, t in enumerate(inputs)],
            "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    EmbeddingsHandler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_openai_embedder_batches_and_normalises(server):
    embedder = EmbedderResource(provider="openai", openai_api_key="sk-test", openai_base_url=server, batch_size=2).build()
    vectors = embedder.embed(["a", "b", "c"])
    assert vectors.shape == (3, DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    expected = fake_vector("c") / np.linalg.norm(fake_vector("c"))
    assert np.allclose(vectors[2], expected, atol=1e-6)
    assert [len(r["input"]) for r in EmbeddingsHandler.seen] == [2, 1]
    assert {r["path"] for r in EmbeddingsHandler.seen} == {"/v1/embeddings"}
    assert {r["auth"] for r in EmbeddingsHandler.seen} == {"Bearer sk-test"}
    assert embedder.model_id == "openai:text-embedding-3-small"


def test_only_redacted_text_leaves_the_machine(sample_home, resources, server):
    resources = {**resources, "embedder": EmbedderResource(provider="openai", openai_api_key="sk-test", openai_base_url=server)}
    result = dg.materialize([raw_tickets, ticket_embeddings], partition_key="2026-11-03", resources=resources)
    assert result.success
    sent = [text for request in EmbeddingsHandler.seen for text in request["input"]]
    assert len(sent) == 150
    originals = resources["warehouse"].db.query("SELECT body FROM tickets WHERE redactions > 0")["body"].to_pylist()
    assert originals and any("4111 1111 1111 1111" in body for body in originals)
    assert not any("4111" in text or "@example.com" in text for text in sent)
    assert any("[CARD]" in text for text in sent)
    stored = resources["vectors"].table(TABLE).to_arrow()
    assert set(stored["model_id"].to_pylist()) == {"openai:text-embedding-3-small"}
