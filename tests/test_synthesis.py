"""The synthesis chain over the real openai client and `nightshift batch-server`: submit, sensor, collect, retry, cost."""

import json
import shutil
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import anthropic
import dagster as dg
import openai
import pytest

from nightshift.app.runner import drain_batches
from nightshift.app.settings import resources_for
from nightshift.assets.cache import cached_answers
from nightshift.assets.digest import daily_digest
from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.assets.quality import answer_quality
from nightshift.assets.reports import daily_cost_and_quality
from nightshift.assets.responses import ticket_responses
from nightshift.assets.synthesis import synthesis_batches
from nightshift.assets.triage import ticket_triage, triage_model
from nightshift.ingest.samples import write_days
from nightshift.lib.home import Home
from nightshift.llm import prompts
from nightshift.llm.anthropic_messages import chat_of, params_of
from nightshift.llm.batch_files import parse_results
from nightshift.llm.engine import TERMINAL, Faults, LocalBatchEngine
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.offline import NAME as OFFLINE
from nightshift.llm.offline import respond
from nightshift.llm.pricing import load_prices
from nightshift.llm.server import BatchServer
from nightshift.orchestration.jobs import collect_job
from nightshift.orchestration.sensors import batch_sensor
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices
from tests.conftest import SAMPLE_START

DAY = SAMPLE_START.isoformat()
TOKEN = "test-token"
PRICES = load_prices()
COLLECT = [ticket_responses, cached_answers, daily_digest, answer_quality, daily_cost_and_quality]
# Every route on Claude: the night's batches go through Anthropic's Message Batches. "": the price table's (OpenAI's).
CLAUDE = "small_model=claude-haiku-4-5,frontier=claude-sonnet-5-5,realtime=claude-sonnet-5-5"
PROTOCOLS = pytest.mark.parametrize("routes", ["", CLAUDE], ids=["openai", "anthropic"])


@pytest.fixture(scope="module")
def triaged(tmp_path_factory) -> Home:
    """One sample day ingested, embedded and routed, built once and copied for each test."""
    home = Home(tmp_path_factory.mktemp("triaged") / "home")
    write_days(home.landing, SAMPLE_START, 1)
    assert dg.materialize([raw_tickets, ticket_embeddings, triage_model, ticket_triage], partition_key=DAY,
                          resources=resources_for(home, "")).success
    return home


@pytest.fixture
def day_home(triaged, tmp_path) -> Home:
    shutil.copytree(triaged.root, tmp_path / "home")
    return Home(tmp_path / "home")


@pytest.fixture
def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def engine(tmp_path):
    return LocalBatchEngine(tmp_path / "provider")


@pytest.fixture
def server(engine, port):
    with BatchServer(engine, port=port, token=TOKEN).running() as running:
        yield running


def resources(home: Home, server: BatchServer | str, max_attempts: int = 3, routes: str = "", **llm_options) -> dict:
    """Fresh resource objects, as a restarted process would build them; server: a running one, or its URL. OpenAI's routes
    and Anthropic's are on the one server; ``routes`` chooses the model (and so the provider) per route."""
    url = server if isinstance(server, str) else server.base_url
    llm = LLMProvider(provider="openai", base_url=url, api_key=TOKEN, max_attempts=max_attempts, max_retries=0,
                      anthropic_base_url=url.removesuffix("/v1"), anthropic_api_key=TOKEN, **llm_options)
    return {**resources_for(home, ""), "llm": llm, "prices": Prices(routes=routes)}


def openai_client(server: BatchServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=TOKEN)


def anthropic_client(server: BatchServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url.removesuffix("/v1"), api_key=TOKEN, max_retries=0)


def ended(server: BatchServer, batch: dict) -> bool:
    """Whether a batch (a row of llm_batches) has ended, asked of its provider's API."""
    if batch["provider"] == "anthropic":
        return anthropic_client(server).messages.batches.retrieve(batch["batch_id"]).processing_status == "ended"
    return openai_client(server).batches.retrieve(batch["batch_id"]).status in TERMINAL


def cancel(server: BatchServer, batch: dict) -> None:
    if batch["provider"] == "anthropic":
        anthropic_client(server).messages.batches.cancel(batch["batch_id"])
    else:
        openai_client(server).batches.cancel(batch["batch_id"])


def materialize(assets, res) -> dict:
    result = dg.materialize(assets, partition_key=DAY, resources=res)
    assert result.success
    return {e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def drain(res, timeout=60) -> list[dict]:
    """Tick the sensor as the daemon would, running each collection it requests, until no batch is open."""
    defs = dg.Definitions(assets=[synthesis_batches, *COLLECT], jobs=[collect_job], sensors=[batch_sensor], resources=res)

    def collect(request: dg.RunRequest) -> dict:
        assert request.partition_key == DAY
        return materialize(COLLECT, res)

    return drain_batches(defs, collect, tick_s=0.05, timeout_s=timeout)


def table(res, sql, *params):
    return res["warehouse"].db.query(sql, list(params) or None).to_pylist()


def usage_cost(server, res) -> float:
    """What the provider's own results say the day's batches cost, line by line: OpenAI's output files, and the results
    of Anthropic's Message Batches (every input token: uncached, read and written), at the price of the model each
    request asked for (the stand-in's answers name the stand-in)."""
    client, claude = openai_client(server), anthropic_client(server)
    asked = {(r["batch_id"], r["custom_id"]): r["model"] for r in table(res, "SELECT batch_id, custom_id, model FROM llm_requests")}
    total = 0.0
    for batch in client.batches.list(limit=100).data:
        if (batch.metadata or {}).get("protocol") == "anthropic":
            for line in claude.messages.batches.results(batch.id):
                if line.result.type == "succeeded":
                    message = line.result.message
                    u = message.usage
                    read, written = u.cache_read_input_tokens or 0, u.cache_creation_input_tokens or 0
                    total += PRICES.cost(asked[batch.id, line.custom_id], u.input_tokens + read + written, u.output_tokens, read, batch=True,
                                         written_tokens=written)
            continue
        read = lambda file_id: client.files.content(file_id).content if file_id else None  # noqa: E731
        model = batch.metadata["model"]
        for result in parse_results(read(batch.output_file_id), read(batch.error_file_id)).values():
            u = result.usage
            total += PRICES.cost(model, u.input_tokens, u.output_tokens, u.cached_tokens, batch=True)
    return total


def realtime_cost(res) -> float:
    """The synchronous answers' $, from what the server answered each (a Claude request travels as a message)."""
    total = 0.0
    for row in table(res, "SELECT body, model FROM llm_requests WHERE mode = 'sync' AND status = 'ok'"):
        body = json.loads(row["body"])
        asked = chat_of(params_of(body)) if PRICES.provider_of(row["model"]) == "anthropic" else body
        usage = respond(asked)["usage"]
        total += PRICES.cost(row["model"], usage["prompt_tokens"], usage["completion_tokens"])
    return total


def day_cost(res) -> float:
    """The day's $ from the tables people read: the answers, the digest, the shadow and judge requests, the safety classifier."""
    return (sum(r["usd"] for r in table(res, "SELECT usd FROM ticket_responses")) + table(res, "SELECT usd FROM daily_digests")[0]["usd"]
            + sum(r["shadow_usd"] + r["judge_usd"] for r in table(res, "SELECT shadow_usd, judge_usd FROM answer_quality"))
            + table(res, "SELECT coalesce(sum(verdict_usd), 0) AS usd FROM ticket_safety")[0]["usd"])


def test_a_clean_day_goes_out_in_one_batch_per_model_and_comes_back_whole(day_home, server):
    res = resources(day_home, server)
    submitted = materialize([synthesis_batches], res)["synthesis_batches"]
    assert submitted["submitted_batches"] == 2 and submitted["realtime_answered"] == 3
    batches = table(res, "SELECT * FROM llm_batches")
    assert {b["model"] for b in batches} == {"gpt-4.1-mini", "gpt-4.1"} and {b["provider"] for b in batches} == {"openai"}
    assert materialize([synthesis_batches], res)["synthesis_batches"]["submitted_batches"] == 0  # in flight: never twice

    runs = drain(res)
    assert len(runs) == 2  # the answers, then (their judge batch finished) the verdicts
    assert runs[0]["answer_quality"]["judge_batches_submitted"] == 1 and runs[1]["answer_quality"]["judge_batches_submitted"] == 0
    collected = runs[0]["ticket_responses"]
    assert collected["status_ok"] == 150 and collected["status_failed"] == 0
    cached = runs[0]["cached_answers"]  # every answer's admission is decided and recorded
    assert cached["answers"] == cached["cache_admitted"] + cached["cache_refused"] == 150 and cached["cache_admitted"] > 0
    assert 0 < collected["replies_usd"] < collected["replies_frontier_sync_usd"]
    rows = table(res, "SELECT * FROM ticket_responses")
    assert len(rows) == 150 and all(r["summary"] and r["draft_reply"] and r["sentiment"] for r in rows)
    assert {r["source"] for r in rows if r["route"] == "realtime"} == {"sync"}
    # Each route asked its model; every answer says the stand-in wrote it, so no query mistakes it for a model's.
    asked = table(res, "SELECT DISTINCT route, model FROM llm_requests WHERE kind = 'reply'")
    assert {(r["route"], r["model"]) for r in asked} == {("small_model", "gpt-4.1-mini"), ("frontier", "gpt-4.1"), ("realtime", "gpt-4.1")}
    assert {r["model"] for r in rows} == {OFFLINE}
    assert {b["status"] for b in table(res, "SELECT status FROM llm_batches WHERE collected_at IS NOT NULL")} == {"completed"}
    digest = table(res, "SELECT * FROM daily_digests")[0]
    assert digest["status"] == "ok" and digest["headline"] and "| theme |" in digest["markdown"]
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)
    quality = table(res, "SELECT * FROM daily_cost_and_quality")[0]
    assert quality["tickets"] == 150 and quality["answered"] == 150 and quality["valid_json_rate"] == 1.0
    assert quality["spent_usd"] == pytest.approx(day_cost(res), abs=1e-6) and 0 < quality["saving"] < 1
    assert quality["route_realtime"] == 3 and quality["batches"] == 3 and quality["max_attempt"] == 1
    assert runs[-1]["daily_cost_and_quality"]["spent_usd"] == quality["spent_usd"]
    assert runs[-1]["daily_cost_and_quality"]["trend_chart"].startswith("![cost and quality trend](data:image/png;base64,")
    levers = quality["saving_batch"] + quality["saving_routing"] + quality["saving_cache"] + quality["saving_prompt_cache"]
    assert levers - quality["quality_usd"] / quality["baseline_usd"] == pytest.approx(quality["saving"], abs=5e-4)
    assert quality["saving_batch"] > 0 and quality["saving_routing"] > 0 and quality["quality_usd"] > 0

    # No cache yet on a first day: nothing judged before, so the small model's sample is the night's most (10), and the
    # offline answers agree.
    judged = table(res, "SELECT * FROM answer_quality")
    assert len(judged) == min(10, quality["route_small_model"]) == 10
    assert {(r["route"], r["status"], r["agrees"]) for r in judged} == {("small_model", "judged", True)}
    assert quality["sampled_small_model"] == len(judged) and quality["agreement_small_model"] == 1.0
    assert 0.4 < quality["agreement_small_model_low"] < 1.0 == quality["agreement_small_model_high"]
    assert quality["sampled_cache"] == 0 and quality["agreement_cache"] is None
    totals = table(res, "SELECT * FROM cost_and_quality_totals")[0]
    assert totals["days"] == 1 and totals["saving"] == pytest.approx(quality["saving"], abs=1e-4)


@pytest.mark.slow
def test_a_day_in_small_blocks_and_files_comes_back_as_it_does_whole(day_home, server, tmp_path, monkeypatch):
    whole = Home(tmp_path / "whole")
    shutil.copytree(day_home.root, whole.root)
    reference = resources(whole, server)
    materialize([synthesis_batches], reference)
    drain(reference)

    for module in ("synthesis", "responses"):
        monkeypatch.setattr(f"nightshift.assets.{module}.BLOCK", 7)  # 150 tickets: 22 blocks asked, planned and answered
    monkeypatch.setattr(BatchLedger, "max_lines", 25)
    res = resources(day_home, server)
    submitted = materialize([synthesis_batches], res)["synthesis_batches"]
    per_model = table(res, "SELECT model, count(*) AS n FROM llm_requests WHERE mode = 'batch' GROUP BY model")
    assert submitted["submitted_batches"] == sum(-(-r["n"] // 25) for r in per_model) > 4
    assert max(b["requests"] for b in table(res, "SELECT requests FROM llm_batches")) == 25
    drain(res)
    answers = ("SELECT ticket_id, route, status, source, model, response, citations, grounded, hold_reason, input_tokens, "
               "output_tokens, usd FROM ticket_responses ORDER BY ticket_id")
    assert len(table(res, answers)) == 150 and table(res, answers) == table(reference, answers)
    requests = "SELECT custom_id, kind, status, attempt, answer, usd FROM llm_requests ORDER BY custom_id"
    assert table(res, requests) == table(reference, requests)  # every request once, answered as it was whole
    assert table(res, "SELECT themes, spikes FROM digest_material") == table(reference, "SELECT themes, spikes FROM digest_material")


@pytest.mark.slow
@PROTOCOLS
def test_failed_lines_are_retried_and_what_still_fails_is_reported(day_home, server, engine, routes):
    engine.faults = Faults(fail_share=0.3)
    res = resources(day_home, server, max_attempts=2, routes=routes)
    materialize([synthesis_batches], res)
    runs = drain(res)
    attempts = table(res, "SELECT custom_id, attempt, status, error FROM llm_requests WHERE mode = 'batch'")
    first_failed = {r["custom_id"] for r in attempts if r["attempt"] == 1 and r["status"] == "failed"}
    assert first_failed and {r["custom_id"] for r in attempts if r["attempt"] == 2} == first_failed
    rows = table(res, "SELECT * FROM ticket_responses")
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 150 and {r["status"] for r in rows} <= {"ok", "failed"}
    assert failed and all(r["attempts"] == 2 and "injected failure" in r["error"] for r in failed)
    # The UI follows the first failures through every stage: both attempts of the reply, each with its error.
    shown = runs[-1]["ticket_responses"]["failed_journeys"]
    assert shown.count("## Ticket ") == min(3, len(failed)) and shown.count("injected failure") >= 2
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)


@PROTOCOLS
@pytest.mark.slow
def test_an_expired_batch_keeps_its_finished_lines_and_resubmits_the_rest(day_home, server, engine, routes):
    engine.faults = Faults(expire_after=0.5)
    res = resources(day_home, server, routes=routes)
    materialize([synthesis_batches], res)
    batches = table(res, "SELECT batch_id, provider FROM llm_batches")
    while not all(ended(server, b) for b in batches):
        time.sleep(0.05)
    engine.faults = Faults()  # the provider recovers
    drain(res)
    first = table(res, "SELECT custom_id, status, batch_id FROM llm_requests WHERE attempt = 1 AND mode = 'batch'")
    kept = {r["custom_id"] for r in first if r["status"] == "ok"}
    expired = {r["custom_id"] for r in first if r["status"] == "expired"}
    assert kept and expired and len(kept) + len(expired) == len(first)
    assert {r["custom_id"] for r in table(res, "SELECT custom_id FROM llm_requests WHERE attempt = 2")} == expired
    rows = {r["ticket_id"]: r for r in table(res, "SELECT * FROM ticket_responses")}
    assert all(r["status"] == "ok" for r in rows.values())
    assert all(rows[t]["attempts"] == 1 for t in kept if t in rows)  # finished lines are not asked again
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)


@PROTOCOLS
@pytest.mark.slow
def test_a_cancelled_batch_is_completed_by_resubmission(day_home, server, engine, routes):
    engine.faults = Faults(line_delay_s=0.2)  # slow enough that both batches are still running when cancelled
    res = resources(day_home, server, routes=routes)
    materialize([synthesis_batches], res)
    for batch in table(res, "SELECT batch_id, provider FROM llm_batches"):
        cancel(server, batch)
    engine.faults = Faults()
    drain(res)
    # The night's batches were cancelled; the judge's, sent after, completed.
    first = table(res, "SELECT status FROM llm_batches WHERE attempt = 1 AND prompt_versions <> ?", prompts.ANSWER_JUDGE)
    assert {b["status"] for b in first} == {"cancelled"}
    assert {r["status"] for r in table(res, "SELECT status FROM ticket_responses")} == {"ok"}
    assert table(res, "SELECT status FROM daily_digests")[0]["status"] == "ok"
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)


@PROTOCOLS
@pytest.mark.slow
def test_a_restart_between_submit_and_collect_loses_nothing(day_home, engine, port, routes):
    engine.faults = Faults(line_delay_s=0.01)
    with BatchServer(engine, port=port, token=TOKEN).running() as server:
        materialize([synthesis_batches], resources(day_home, server, routes=routes))
    # Everything stops mid-batch: the server, the sensor's cursor, every resource object.
    restarted = LocalBatchEngine(engine.root)
    with BatchServer(restarted, port=port, token=TOKEN).running() as server:
        res = resources(day_home, server, routes=routes)
        assert drain(res)
        assert {r["status"] for r in table(res, "SELECT status FROM ticket_responses")} == {"ok"}
        assert len(table(res, "SELECT * FROM ticket_responses")) == 150
        assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)


@pytest.mark.slow
@PROTOCOLS
def test_cost_is_counted_once_across_retries_reruns_and_recollection(day_home, server, engine, routes):
    engine.faults = Faults(fail_share=0.2)
    res = resources(day_home, server, max_attempts=1, routes=routes)
    materialize([synthesis_batches], res)
    drain(res)
    spent = day_cost(res)
    assert spent == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)
    # The night's requests that failed (the judge's are answer_quality's to resend).
    failed = table(res, "SELECT count(*) AS n FROM llm_requests WHERE status = 'failed' AND mode = 'batch' AND kind <> 'judge'")[0]["n"]
    assert failed > 0

    engine.faults = Faults()
    rerun = materialize([synthesis_batches], res)["synthesis_batches"]  # a rerun asks only what is not answered
    assert rerun["submitted_requests"] == failed and rerun["reused"] == rerun["requests"] - failed
    drain(res)
    with res["warehouse"].db.connect() as con:
        con.execute("UPDATE llm_batches SET collected_at = NULL")  # collect every batch a second time
    drain(res)
    total = day_cost(res)
    assert total == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)
    assert total == pytest.approx(BatchLedger(res["warehouse"].db, None, PRICES).day_totals(SAMPLE_START)["spent_usd"], abs=1e-6)
    assert {r["status"] for r in table(res, "SELECT status FROM ticket_responses")} == {"ok"}
    assert table(res, "SELECT count(*) AS n FROM ticket_responses")[0]["n"] == 150


@PROTOCOLS
@pytest.mark.slow
def test_a_batch_that_would_miss_its_deadline_is_answered_now_and_the_extra_cost_counted_once(day_home, server, engine, routes):
    engine.faults = Faults(line_delay_s=2.0)  # 2 s a line, 4 at a time: the smallest batch of the night takes 8 s or more
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)  # rescued after half of that
    res = resources(day_home, server, routes=routes, deadlines=due.time().isoformat(),
                    deadline_days=(due.date() - SAMPLE_START).days, rescue_share=0.5)
    materialize([synthesis_batches], res)
    drain(res)
    first = table(res, "SELECT * FROM llm_batches WHERE attempt = 1 AND prompt_versions <> ?", prompts.ANSWER_JUDGE)
    assert first and all(b["rescued_at"] and b["status"] == "cancelled" for b in first), [(b["status"], b["completed"]) for b in first]
    rows = table(res, "SELECT * FROM ticket_responses")
    rescued = [r for r in rows if r["rescued"]]
    assert len(rows) == 150 and {r["status"] for r in rows} == {"ok"} and rescued
    assert all(r["source"] == "sync" and r["rescue_usd"] > 0 for r in rescued)
    # Every answer came back before the deadline; the rescue paid the synchronous price, and the extra is its other half.
    replies = table(res, "SELECT finished_at, usd, rescued, rescue_usd FROM llm_requests WHERE kind = 'reply' AND status = 'ok'")
    assert max(r["finished_at"] for r in replies) < due.replace(tzinfo=None)
    extra = sum(r["usd"] for r in table(res, "SELECT usd FROM llm_requests WHERE rescued")) * PRICES.batch_discount
    quality = table(res, "SELECT * FROM daily_cost_and_quality")[0]
    assert quality["rescued_tickets"] == len(rescued) and quality["rescue_usd"] == pytest.approx(extra, abs=1e-6)
    assert day_cost(res) == pytest.approx(usage_cost(server, res) + realtime_cost(res), rel=1e-9)
    with res["warehouse"].db.connect() as con:
        con.execute("UPDATE llm_batches SET collected_at = NULL")  # collect every batch a second time: nothing is added
    drain(res)
    again = table(res, "SELECT * FROM daily_cost_and_quality")[0]
    assert (again["rescue_usd"], again["spent_usd"], again["rescued_tickets"]) == (quality["rescue_usd"], quality["spent_usd"], len(rescued))


def restarts(result) -> int:
    return sum(e.event_type == dg.DagsterEventType.STEP_RESTARTED for e in result.all_events)


@pytest.mark.slow
def test_a_provider_that_is_down_is_retried_with_backoff_and_a_refusal_is_not(day_home, engine, port):
    res = resources(day_home, f"http://127.0.0.1:{port}/v1")
    done = threading.Event()

    def come_back_before_the_retry():
        time.sleep(3)  # nothing listens while the first attempt runs; Dagster retries after 10 s
        with BatchServer(engine, port=port, token=TOKEN).running():
            done.wait(60)

    back = threading.Thread(target=come_back_before_the_retry)
    back.start()
    result = dg.materialize([synthesis_batches], partition_key=DAY, resources=res)
    done.set()
    back.join()
    assert result.success and restarts(result) == 1
    assert len(table(res, "SELECT * FROM llm_batches")) == 2

    wrong_key = {**res, "llm": LLMProvider(provider="openai", base_url=res["llm"].base_url, api_key="wrong", max_retries=0)}
    with BatchServer(engine, port=port, token=TOKEN).running():  # the day's batches, polled with a key it refuses
        result = dg.materialize([ticket_responses], partition_key=DAY, resources=wrong_key, raise_on_error=False)
    assert not result.success and restarts(result) == 0
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "refused the request (401)" in failure.event_specific_data.error.message
