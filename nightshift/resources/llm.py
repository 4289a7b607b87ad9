"""The LLM providers: the OpenAI Batch API (or a compatible one) or the local batch engine, Anthropic's Message Batches
beside it, and the deadlines their batches must meet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anthropic
import dagster as dg
import openai
from pydantic import Field

from nightshift.llm.client import AnthropicBatchClient, BatchClient, LocalBatchClient, OpenAIBatchClient, Providers, responder_for
from nightshift.llm.deadlines import Deadlines, parse_deadlines
from nightshift.llm.engine import LocalBatchEngine


class LLMProvider(dg.ConfigurableResource):
    """Where synthesis runs. ``openai``: batches through the official client at ``base_url``. ``local``:
    the local batch engine in this process, running each line against ``chat_url`` (vLLM, Ollama,
    llama.cpp server) or, with none, the offline responder (a stand-in that is not a model).

    Claude models (provider ``anthropic`` in the price table) go to Anthropic's Message Batches when an Anthropic key
    or base URL is set; a local night without either answers them with the local engine too."""

    provider: str = Field(default="local", description="'openai' (Batch API at base_url) or 'local' (local batch engine).")
    base_url: str | None = Field(default=None, description="Batch API base URL; empty for api.openai.com.")
    api_key: str | None = Field(default=None, description="API key for base_url (set through OPENAI_API_KEY).")
    engine_dir: str = Field(default="", description="local: where the engine keeps files and batch state.")
    chat_url: str | None = Field(default=None, description="local: OpenAI-compatible chat endpoint; empty for the offline responder.")
    chat_api_key: str | None = Field(default=None, description="local: key for chat_url, if it wants one.")
    chat_dialect: str = Field(default="json_schema", description="local: how chat_url takes structured output: json_schema "
                              "(OpenAI, vLLM), json_object (llama.cpp server) or prompt (the schema in the system message).")
    concurrency: int = Field(default=4, description="local: requests in flight at once against chat_url.")
    max_attempts: int = Field(default=3, description="Attempts per request before it is reported failed.")
    max_retries: int = Field(default=4, description="Client retries, with exponential backoff, on 429, 5xx and connection errors.")
    timeout_s: float = Field(default=120.0, description="Per HTTP request.")
    poll_budget_s: float = Field(default=20.0, description="local: seconds of work one poll may do.")
    daily_budget_usd: float = Field(default=25.0, description="Most $ one day may cost; a day projected over it submits nothing.")
    anthropic_base_url: str | None = Field(default=None, description="Anthropic API base URL; empty for api.anthropic.com.")
    anthropic_api_key: str | None = Field(default=None, description="Anthropic API key (set through ANTHROPIC_API_KEY).")
    deadlines: str = Field(default="", description="When each route's answers are due, UTC time of day: 07:00 for every "
                           "route, or small_model=08:00,frontier=07:00. Empty: no deadline.")
    deadline_days: int = Field(default=1, description="Days after the tickets' day that the deadline falls on (0: the same day).")
    rescue_share: float = Field(default=0.8, description="A batch still running after this share of its time from submit "
                                "to deadline is cancelled and its unanswered requests asked synchronously, at full price.")

    def providers(self) -> Providers:
        """The client of each provider: ``openai`` (the Batch API or the local engine) and ``anthropic``."""
        main = self._main_client()
        if self.anthropic_api_key or self.anthropic_base_url:
            api = anthropic.Anthropic(base_url=self.anthropic_base_url or None, api_key=self.anthropic_api_key or None,
                                      max_retries=self.max_retries, timeout=self.timeout_s)
            return Providers({"openai": main, "anthropic": AnthropicBatchClient(api)})
        return Providers({"openai": main, "anthropic": main} if self.provider == "local" else {"openai": main})

    def deadline_policy(self) -> Deadlines | None:
        return parse_deadlines(self.deadlines, self.deadline_days, self.rescue_share) if self.deadlines else None

    def _main_client(self) -> BatchClient:
        """OpenAI's models' client: the Batch API, or the local engine (which answers every model)."""
        if self.provider == "openai":
            api = openai.OpenAI(base_url=self.base_url or None, api_key=self.api_key or None,
                                max_retries=self.max_retries, timeout=self.timeout_s)
            return OpenAIBatchClient(api)
        if self.provider == "local":
            if not self.engine_dir:
                raise dg.Failure("LLMProvider(provider='local') needs engine_dir.")
            responder = responder_for(self.chat_url, self.chat_api_key, self.chat_dialect, max_retries=self.max_retries,
                                      timeout=self.timeout_s)
            return LocalBatchClient(LocalBatchEngine(self.engine_dir, responder, self.concurrency), self.poll_budget_s)
        raise dg.Failure(f"LLMProvider.provider must be 'openai' or 'local', got {self.provider!r}.")


# Transient provider trouble (connection errors, timeouts, 408/409/429/5xx that outlast the client's own retries)
# fails the step, and Dagster runs it again 10 s, 30 s and 70 s later. Reruns are safe because the ledger never resends
# an answered or in-flight request. No jitter: one run per day and asset is no thundering herd.
PROVIDER_RETRY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL)
TRANSIENT_STATUS = {408, 409, 429}


@contextmanager
def permanent_errors_fail_fast() -> Iterator[None]:
    """A refusal that waiting will not fix (a bad key, a malformed request) fails at once, without Dagster's retries."""
    try:
        yield
    except (openai.APIStatusError, anthropic.APIStatusError) as exc:
        if exc.status_code in TRANSIENT_STATUS or exc.status_code >= 500:
            raise
        raise dg.Failure(f"The provider refused the request ({exc.status_code}): {exc.message}", allow_retries=False) from exc
