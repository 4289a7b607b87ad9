"""The embedding model, local by default, OpenAI by configuration."""

from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field, PrivateAttr

from nightshift.ingest.encoders import Embedder, MiniLMEmbedder, OpenAIEmbedder


class EmbedderResource(dg.ConfigurableResource):
    """Turns redacted ticket text into vectors."""

    provider: Literal["local", "openai"] = Field(
        default="local", description="'local': all-MiniLM-L6-v2 on ONNX Runtime, offline. 'openai': the embeddings API."
    )
    batch_size: int = Field(default=32, description="Texts per model call (local: per length-sorted batch).")
    openai_model: str = Field(default="text-embedding-3-small", description="Model name when provider is 'openai'.")
    openai_api_key: str | None = Field(default=None, description="API key; set it with dg.EnvVar('OPENAI_API_KEY').")
    openai_base_url: str | None = Field(default=None, description="OpenAI-compatible base URL (Azure, a gateway).")

    _embedder: Embedder | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._embedder = self.build()

    def build(self) -> Embedder:
        if self.provider == "local":
            return MiniLMEmbedder(batch_size=self.batch_size)
        from openai import OpenAI

        client = OpenAI(api_key=self.openai_api_key, base_url=self.openai_base_url)
        return OpenAIEmbedder(client, model=self.openai_model, batch_size=self.batch_size)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:  # used outside a run (CLI, benchmarks)
            self._embedder = self.build()
        return self._embedder
