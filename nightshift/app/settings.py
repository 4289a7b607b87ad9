"""Resources for a nightshift home, configured from the environment.

Non-secret settings are plain environment variables read when the definitions load; the OpenAI key
is a dg.EnvVar so it is resolved at run time and never shown in the UI or logs.
"""

from __future__ import annotations

import os
from typing import Literal, cast

import dagster as dg

from nightshift.app.locations import warehouse_location
from nightshift.ingest.files import FALLBACK_ENCODING
from nightshift.ingest.redaction import PHONE_REGIONS
from nightshift.lib.home import Home
from nightshift.resources.answer_cache import RELEVANCE_FLOOR, AnswerCache
from nightshift.resources.chunk_results import ChunkResults
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.landing import LandingZone
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices, TriageModelStore
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.safety import SafetyPolicy
from nightshift.resources.vector_store import LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse


def resources_for(home: Home, mapping: str | None = None) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    env = os.environ.get
    provider = cast(Literal["local", "openai"], env("NIGHTSHIFT_EMBEDDER", "local"))  # the resource validates it
    # LanceDB takes object-store URIs too (s3://bucket/nightshift), for machines that share it.
    vectors = LanceDBStore(uri=env("NIGHTSHIFT_LANCEDB_URI") or str(home.vectors), storage_options=object_store())
    return {
        "landing": LandingZone(
            root=str(home.landing),
            mapping=env("NIGHTSHIFT_MAP", "") if mapping is None else mapping,
            created_at_format=env("NIGHTSHIFT_CREATED_AT_FORMAT") or None,
            phone_regions=env("NIGHTSHIFT_PHONE_REGIONS") or ",".join(PHONE_REGIONS),
            keep_quarantine_raw=env("NIGHTSHIFT_QUARANTINE_RAW", "").strip().lower() == "keep",
            encoding=env("NIGHTSHIFT_ENCODING") or FALLBACK_ENCODING,
            delimiter=env("NIGHTSHIFT_DELIMITER", ""),
        ),
        "warehouse": warehouse_for(home),
        "chunk_results": ChunkResults(root=str(home.root / "chunks")),
        "vectors": vectors,
        "answer_cache": AnswerCache(
            vectors=vectors,
            error_bound=float(env("NIGHTSHIFT_CACHE_ERROR_BOUND", "0.02")),
            probes=int(env("NIGHTSHIFT_CACHE_PROBES", "10")),
            relevance_floor=float(env("NIGHTSHIFT_CACHE_RELEVANCE_FLOOR", str(RELEVANCE_FLOOR))),
            admission=cast(Literal["rules", "open"], env("NIGHTSHIFT_CACHE_ADMISSION", "rules")),
        ),
        "knowledge": KnowledgeBase(
            vectors=vectors,
            folder=env("NIGHTSHIFT_KNOWLEDGE") or str(home.knowledge),
            macro_map=env("NIGHTSHIFT_KNOWLEDGE_MAP", ""),
            top_k=int(env("NIGHTSHIFT_RETRIEVAL_TOP_K", "3")),
            floor=float(env("NIGHTSHIFT_RETRIEVAL_FLOOR", "0.3")),
            grounded_target=float(env("NIGHTSHIFT_GROUNDED_TARGET", "0.9")),
        ),
        "models": TriageModelStore(
            root=str(home.models),
            per_label=int(env("NIGHTSHIFT_TRAIN_PER_LABEL", "200")),
            window_days=int(env("NIGHTSHIFT_TRAIN_DAYS", "90")),
            retrain_share=float(env("NIGHTSHIFT_RETRAIN_SHARE", "0.2")),
        ),
        "prices": Prices(path=env("NIGHTSHIFT_PRICES") or None, routes=env("NIGHTSHIFT_ROUTES", "")),
        "quality": QualityPolicy(
            half_width=float(env("NIGHTSHIFT_QUALITY_HALF_WIDTH", "0.05")),
            shadow_share=float(env("NIGHTSHIFT_SHADOW_SHARE", "0")),
            shadow_min=int(env("NIGHTSHIFT_SHADOW_MIN", "2")),
            shadow_max=int(env("NIGHTSHIFT_SHADOW_MAX", "10")),
            target=float(env("NIGHTSHIFT_QUALITY_TARGET", "0.90")),
        ),
        "safety": SafetyPolicy(
            sample_share=float(env("NIGHTSHIFT_SAFETY_SAMPLE", "0.05")),
            realtime_cap=float(env("NIGHTSHIFT_REALTIME_CAP", "0.05")),
            max_refund=float(env("NIGHTSHIFT_REFUND_LIMIT", "50")),
        ),
        "llm": llm_for(home),
        "embedder": EmbedderResource(
            provider=provider,
            openai_api_key=dg.EnvVar("OPENAI_API_KEY") if provider == "openai" else None,
            openai_base_url=env("OPENAI_BASE_URL") or None,
        ),
    }


def object_store() -> dict[str, str]:
    """LanceDB's options for an S3-compatible store at AWS_ENDPOINT_URL (MinIO, Ceph, moto); none for AWS itself."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return {}
    return {"aws_endpoint": endpoint, **({"allow_http": "true"} if endpoint.startswith("http://") else {})}


def warehouse_for(home: Home) -> DuckDBWarehouse:
    """The warehouse resource, where ``warehouse_location`` says."""
    location, data = warehouse_location(home)
    return DuckDBWarehouse(path=location, data_path=data)


def llm_for(home: Home) -> LLMProvider:
    """NIGHTSHIFT_LLM=openai sends batches to OPENAI_BASE_URL (default api.openai.com) with OPENAI_API_KEY;
    the default, local, runs them in-process against NIGHTSHIFT_CHAT_URL or the offline responder. Claude models go to
    ANTHROPIC_BASE_URL (default api.anthropic.com) when ANTHROPIC_API_KEY or that URL is set."""
    env = os.environ.get
    provider = env("NIGHTSHIFT_LLM", "local")
    return LLMProvider(
        provider=provider,
        base_url=env("OPENAI_BASE_URL") or None,
        api_key=dg.EnvVar("OPENAI_API_KEY") if provider == "openai" else None,
        engine_dir=str(home.batches),
        chat_url=env("NIGHTSHIFT_CHAT_URL") or None,
        chat_api_key=dg.EnvVar("NIGHTSHIFT_CHAT_API_KEY") if env("NIGHTSHIFT_CHAT_API_KEY") else None,
        chat_dialect=env("NIGHTSHIFT_CHAT_DIALECT", "json_schema"),
        max_attempts=int(env("NIGHTSHIFT_MAX_ATTEMPTS", "3")),
        anthropic_base_url=env("ANTHROPIC_BASE_URL") or None,
        anthropic_api_key=dg.EnvVar("ANTHROPIC_API_KEY") if env("ANTHROPIC_API_KEY") else None,
        deadlines=env("NIGHTSHIFT_DEADLINES", ""),
        deadline_days=int(env("NIGHTSHIFT_DEADLINE_DAYS", "1")),
        rescue_share=float(env("NIGHTSHIFT_RESCUE_SHARE", "0.8")),
        daily_budget_usd=float(env("NIGHTSHIFT_DAILY_BUDGET_USD", "25")),
    )
