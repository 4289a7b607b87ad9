"""A night traced into a real viewer: Arize Phoenix on loopback receives the spans over OTLP/HTTP, and they are read back
through its own REST API."""

import time

import httpx
import pytest

from nightshift.ingest.samples import write_days
from nightshift.lib.home import Home
from nightshift.llm import offline
from nightshift.observability import tracing
from tests.conftest import SAMPLE_START
from tests.services import phoenix
from tests.test_knowledge import night


def spans(url: str) -> list[dict]:
    found, cursor = [], None
    while True:
        page = httpx.get(f"{url}/v1/projects/{tracing.PROJECT}/spans", params={"limit": 1000, **({"cursor": cursor} if cursor else {})},
                         timeout=30).json()
        found += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def settled(url: str) -> list[dict]:
    """The spans once Phoenix has stored all it was sent (it writes them in the background)."""
    seen, count = [], -1
    while len(seen) != count:
        count, seen = len(seen), spans(url)
        time.sleep(1.0)
    return seen


@pytest.mark.slow
def test_a_traced_night_reads_back_from_the_viewer_with_the_days_tokens_and_dollars(tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    write_days(home.landing, SAMPLE_START, 1)
    with phoenix() as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        try:
            db = night(home, [SAMPLE_START], monkeypatch)
        finally:
            tracing.shutdown()  # everything exported; later tests trace nothing
        found = settled(url)
    names = {s["name"] for s in found}
    assert {"asset raw_tickets", "asset ticket_triage", "asset synthesis_batches", "asset ticket_responses",
            "asset daily_cost_and_quality", "batch submit", "batch collect"} <= names
    assert any(n.startswith("check ticket_responses") for n in names)
    # A trace per run: its id is the Dagster run id, and every step span carries it.
    steps = [s for s in found if s["name"].startswith("asset ")]
    assert all(s["context"]["trace_id"] == s["attributes"]["dagster.run_id"].replace("-", "") for s in steps)
    assert all(s["attributes"]["nightshift.day"] == SAMPLE_START.isoformat() for s in steps)

    # One ticket's spans carry its id from ingest to answer.
    ticket = db.rows("SELECT ticket_id FROM ticket_responses WHERE route = 'small_model' AND status = 'ok' ORDER BY ticket_id LIMIT 1")[0]
    journey = [s for s in found if s["attributes"].get("nightshift.ticket_id") == ticket["ticket_id"]]
    assert {"ticket ingest", "ticket triage", "chat gpt-4.1-mini", "ticket answer"} <= {s["name"] for s in journey}

    # The requests' GenAI spans add up to the day's figures in DuckDB, exactly.
    chats = [s["attributes"] for s in found if s["name"].startswith("chat ")]
    day = db.rows("SELECT count(*) AS n, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(usd) AS usd FROM llm_requests")[0]
    assert len(chats) == day["n"]
    assert all(c["gen_ai.operation.name"] == "chat" and c["gen_ai.provider.name"] == "openai" for c in chats)
    assert {c["gen_ai.response.model"] for c in chats} == {offline.NAME}  # the stand-in answered, whatever was asked
    assert sum(c["gen_ai.usage.input_tokens"] for c in chats) == day["input"]
    assert sum(c["gen_ai.usage.output_tokens"] for c in chats) == day["output"]
    assert sum(c["nightshift.cost_usd"] for c in chats) == pytest.approx(day["usd"], abs=1e-12)
    assert sum(c["nightshift.cost_usd"] for c in chats) == pytest.approx(db.rows("SELECT spent_usd FROM daily_cost_and_quality")[0]["spent_usd"],
                                                                         abs=1e-6)


def test_without_an_endpoint_nothing_is_set_up():
    assert not tracing.enabled() and tracing.tracer() is None
    assert tracing.span("anything", {"a": 1}) is None
    with tracing.step("asset x", "6f1c2a9e-1b7d-4c3e-9a55-0d2f0c1e4b7a", None):
        assert tracing.tracer() is None
