"""The nightshift command, run through typer's runner against a temporary home and Dagster instance."""

import json

import dagster as dg
import pytest
from dagster._core.snap import JobSnap
from typer.testing import CliRunner

from nightshift.app.cli import app
from nightshift.app.code_location import build_definitions
from nightshift.app.instance import CODE_LOCATION
from nightshift.lib.home import Home

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_every_command_has_help():
    for command in ("sample", "replay", "ingest", "run", "demo", "query", "trace", "dev", "eval", "batch-server", "bench", "report",
                    "instance-yaml"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.slow
def test_ingest_runs_through_dagster_and_query_reads_the_result(sample_home):
    result = invoke("ingest", "--start", "2026-11-01", "--end", "2026-11-02")
    assert result.exit_code == 0, result.output
    runs = dg.DagsterInstance.get().get_run_records()
    assert len(runs) == 2 and all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert {r.dagster_run.tags["dagster/partition"] for r in runs} == {"2026-11-01", "2026-11-02"}
    assert {r.dagster_run.job_name for r in runs} == {"ingest_job"}
    # Runs of the code location the UI loads, of the job as defined (not an in-process copy with its own executor).
    job = build_definitions(Home.from_env(), None).resolve_job_def("ingest_job")
    assert {r.dagster_run.remote_job_origin.location_name for r in runs} == {CODE_LOCATION}
    assert {r.dagster_run.job_snapshot_id for r in runs} == {JobSnap.from_job_def(job).snapshot_id}

    out = invoke("query", "SELECT day, count(*) AS n FROM tickets GROUP BY day ORDER BY day", "--format", "json")
    assert json.loads(out.stdout) == [{"day": "2026-11-01", "n": 150}, {"day": "2026-11-02", "n": 150}]
    out = invoke("query", "SELECT count(*) AS n FROM tickets_quarantine", "--format", "csv")
    assert out.stdout == "n\n12\n"
    out = invoke("query", "SELECT count(*) AS tickets FROM tickets")
    assert "tickets" in out.stdout and "300" in out.stdout
    # Brackets are data, never markup: redaction markers and the offline responder's marker must show.
    out = invoke("query", 'SELECT \'[EMAIL] [offline responder, no model] y\' AS "[b]note"')
    assert "[EMAIL] [offline responder, no model] y" in out.stdout and "[b]note" in out.stdout


@pytest.mark.slow
def test_replay_then_ingest_with_progress_and_next_step(home, tmp_path):
    src = tmp_path / "faq.csv"
    src.write_text("question,intent\n" + "".join(f"how do I do thing {i}?,i{i % 4}\n" for i in range(40)))
    result = invoke("replay", str(src), "--map", "text=question,label=intent", "--days", "2", "--start", "2026-10-01")
    assert result.exit_code == 0
    assert "40 rows into 2 day folders" in result.output
    assert "nightshift ingest --start 2026-10-01 --end 2026-10-02" in result.output
    assert invoke("ingest", "--start", "2026-10-01", "--end", "2026-10-02").exit_code == 0
    out = invoke("query", "SELECT count(DISTINCT label) AS n FROM tickets", "--format", "csv")
    assert out.stdout == "n\n4\n"


def test_errors_are_clear_and_exit_non_zero(home, tmp_path):
    cases = [
        (("query", "SELECT 1"), "no warehouse"),
        (("ingest", "--start", "2026-13-01"), "YYYY-MM-DD"),
        (("ingest", "--start", "2026-11-02", "--end", "2026-11-01"), "before --start"),
        (("ingest", "--start", "2026-11-02", "--map", "colour=red"), "unknown field"),
        (("replay", str(tmp_path / "missing.csv"), "--days", "2"), "does not exist"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)


def test_instance_yaml_prints_the_settings_nightshift_runs_with(monkeypatch):
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    assert "max_concurrent_runs" in invoke("instance-yaml").stdout and "postgres_url" not in invoke("instance-yaml").stdout


@pytest.mark.slow
def test_bad_sql_is_reported(sample_home):
    invoke("ingest", "--start", "2026-11-01")
    result = invoke("query", "SELECT nope FROM tickets")
    assert result.exit_code == 2 and "nope" in result.output


@pytest.mark.slow
def test_run_waits_for_the_batches_through_the_sensor(sample_home, tmp_path):
    result = invoke("run", "--start", "2026-11-01", "--end", "2026-11-02")
    assert result.exit_code == 0, result.output
    runs = [r.dagster_run for r in dg.DagsterInstance.get().get_run_records()]
    collects = [r for r in runs if r.job_name == "collect_job"]
    # Two collections a day: the answers, then the judge's verdicts on the day's sample.
    assert sorted(r.tags["dagster/partition"] for r in collects) == ["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-02"]
    assert all(r.tags["dagster/run_key"].startswith("batch_") for r in collects)
    out = invoke("query", "SELECT day, count(*) FILTER (WHERE status = 'ok') AS ok, count(*) FILTER (WHERE route = 'cache') AS cached "
                 "FROM ticket_responses GROUP BY day ORDER BY day", "--format", "json")
    days = json.loads(out.stdout)
    assert [d["ok"] for d in days] == [150, 150]
    assert days[0]["cached"] == 0 < days[1]["cached"]  # the second night reuses the first night's answers
    assert "saving" in result.stdout and "all" in result.stdout
    # Time beside $ and quality: every stage's seconds, from the event log of the runs that made the day.
    timed = json.loads(invoke("query", "SELECT ingest_s, embed_s, triage_s, submit_s, collect_s FROM daily_cost_and_quality",
                              "--format", "json").stdout)
    assert len(timed) == 2 and all(0 < seconds < 120 for row in timed for seconds in row.values()), timed
    shown = invoke("report", "--days", "100000", "--plot", str(tmp_path / "trend.png"))
    assert shown.exit_code == 0 and "2026-11-02" in shown.stdout and "sync $" in shown.stdout
    assert (tmp_path / "trend.png").read_bytes().startswith(b"\x89PNG")

    # A rerun of the first day routes as its night did (its own answers, cached since, are not its cache) and costs
    # nothing more.
    routes = "SELECT ticket_id, route FROM ticket_triage WHERE day = '2026-11-01' ORDER BY ticket_id"
    spent = "SELECT sum(usd) AS usd FROM llm_requests WHERE superseded_at IS NULL"
    before = (invoke("query", routes, "--format", "json").stdout, invoke("query", spent, "--format", "json").stdout)
    assert invoke("run", "--start", "2026-11-01").exit_code == 0
    assert (invoke("query", routes, "--format", "json").stdout, invoke("query", spent, "--format", "json").stdout) == before


@pytest.mark.slow
def test_bench_cost_with_a_provider_mix_ends_with_json_and_dollars_per_provider(home, tmp_path, monkeypatch):
    monkeypatch.setenv("NIGHTSHIFT_ROUTES", "")  # --routes sets it for the nights: put it back afterwards
    src = tmp_path / "tickets.csv"
    asks = {"refund": "I want a refund for order {}.", "shipping": "Where is my parcel {}? It is late.",
            "password": "I cannot reset my password, attempt {}.", "invoice": "Please send me invoice number {}."}
    src.write_text("question,intent\n" + "".join(f"\"{text.format(i)}\",{label}\n" for i in range(15) for label, text in asks.items()))
    result = invoke("bench", "cost", "--csv", str(src), "--map", "text=question,label=intent", "--days", "2",
                    "--keep", str(tmp_path / "bench"), "--routes", "frontier=claude-sonnet-5-5,realtime=claude-sonnet-5-5")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["tickets"] == 60 and figures["answered"] == 60 and figures["days"] == 2
    assert 0 < figures["nightshift_usd"] < figures["baseline_usd"] and 0 < figures["saving"] < 1
    assert figures["wall_s"] > 0 and figures["home"] == str(tmp_path / "bench")
    # The small model's batches went to OpenAI's price, the frontier's (and the digest, shadow and judge) to Anthropic's.
    assert figures["models_openai"] == "gpt-4.1-mini" and figures["models_anthropic"] == "claude-sonnet-5-5"
    assert figures["usd_openai"] > 0 and figures["usd_anthropic"] > 0
    assert figures["usd_openai"] + figures["usd_anthropic"] == pytest.approx(figures["nightshift_usd"], abs=1e-5)
    assert "$ per provider: anthropic $" in result.stdout
    # Quality beside the price: per cheap route the judged share (Wilson) and the 7-day estimate from every answer.
    assert 0 < figures["judge_usd"] + figures["shadow_only_usd"] <= figures["shadow_usd"] + 1e-9  # the rest: the safety classifier
    assert figures["estimator_small_model"] in ("wilson", "ppi++") and 0 < figures["half_width_small_model"] < 0.5
    assert figures["estimate_small_model_low"] <= figures["estimate_small_model"] <= figures["estimate_small_model_high"]
    assert "all answers, 7 days" in result.stdout and "judge $" in result.stdout


def test_printed_commands_name_the_program_as_it_can_be_typed(tmp_path, monkeypatch):
    from nightshift.app.cli import how_to_call

    program = tmp_path / ".venv" / "bin" / "nightshift"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(program)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # not on PATH, as after `bash dev.sh demo`
    assert how_to_call() == ".venv/bin/nightshift"
    monkeypatch.setenv("PATH", f"{program.parent}:/usr/bin")  # an activated venv
    assert how_to_call() == "nightshift"


def test_a_dagster_home_of_ones_own_is_made_and_given_nightshifts_settings_unless_it_has_its_own(tmp_path, monkeypatch):
    from nightshift.app.instance import dagster_home

    chosen = tmp_path / "not" / "there" / "yet"
    monkeypatch.setenv("DAGSTER_HOME", str(chosen))
    assert dagster_home(Home(tmp_path / "home")) == chosen and "max_concurrent_runs" in (chosen / "dagster.yaml").read_text()
    (chosen / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    dagster_home(Home(tmp_path / "home"))
    assert (chosen / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"
