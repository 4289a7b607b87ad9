"""The `nightshift` command: sample data, replay, ingest through Dagster, queries, the UI."""

from __future__ import annotations

import csv
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nightshift.home import Home

app = typer.Typer(
    help="nightshift: nightly, asynchronous LLM work on support tickets. State lives in $NIGHTSHIFT_HOME "
    "(default ~/.nightshift).",
    no_args_is_help=True,
    add_completion=False,
)
# When output goes to a pipe or a log, rich would assume 80 columns and squeeze tables and reports.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 180)
stdout = Console(width=None if sys.stdout.isatty() else 180)

Day = Annotated[str, typer.Option(help="A day as YYYY-MM-DD (UTC).")]
MapOpt = Annotated[
    Optional[str],
    typer.Option("--map", help="Source columns: field=COLUMN pairs, e.g. text=instruction,label=intent."),
]


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{name} must be a day as YYYY-MM-DD, got {value!r}") from None


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise fail(f"--end {end} is before --start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)


@app.command()
def sample(
    start: Day = "",
    days: Annotated[int, typer.Option(help="How many days of tickets.")] = 3,
    per_day: Annotated[int, typer.Option(help="Well-formed tickets per day.")] = 150,
) -> None:
    """Write generated sample tickets (with a few malformed rows) into the landing zone."""
    from nightshift.sample_tickets import SampleSpec, write_days

    first = parse_day(start, "--start") if start else default_start(days)
    home = Home.from_env()
    for path in write_days(home.landing, first, days, SampleSpec(tickets_per_day=per_day)):
        console.print(f"wrote {path}")


def default_start(days: int) -> date:
    """The first of ``days`` days that end yesterday (UTC), the last complete day."""
    return datetime.now(timezone.utc).date() - timedelta(days=days)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV file.")],
    map: MapOpt = None,
    days: Annotated[Optional[int], typer.Option(help="Spread the rows over this many days (assigns creation times).")] = None,
    start: Day = "",
    created_at_format: Annotated[Optional[str], typer.Option(help="strptime format of the created_at column.")] = None,
) -> None:
    """Spread a CSV over day folders of the landing zone, in canonical column names."""
    from nightshift.mapping import MappingError, parse_map
    from nightshift.replay import replay_csv

    first = parse_day(start, "--start") if start else (default_start(days) if days else None)
    home = Home.from_env()
    with progress_bar() as bar:
        task = bar.add_task(f"replaying {file.name}", total=None)
        try:
            result = replay_csv(
                file, home.landing, parse_map(map), days, first, created_at_format,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except (MappingError, ValueError) as exc:
            raise fail(str(exc)) from None
    console.print(f"{result.rows} rows into {len(result.files)} day folders under {home.landing}")
    if result.unreadable:
        console.print(f"[yellow]{result.unreadable} rows could not be parsed and were not replayed[/yellow]")
    if result.undated:
        console.print(f"[yellow]{result.undated} rows had no usable created_at and were not replayed[/yellow]")
    days_written = sorted(Path(p).parent.name for p in result.files)
    if days_written:
        console.print(f"next: nightshift ingest --start {days_written[0]} --end {days_written[-1]}")


# Runs keep their full event log in the instance; the terminal shows progress, warnings and the summary.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_job(home: Home, job_name: str, days: list[date], mapping: str | None, collect: bool = False) -> list[dict]:
    """Run a day-partitioned job (with its asset checks) for each day, in the instance; one summary per day.

    With ``collect``, after each day the batch sensor is evaluated as the daemon would and the
    collection runs it requests are executed, until none of the day's batches is open: later days
    then find the earlier days' answers in the cache.
    """
    from nightshift.batch_ledger import BatchLedger
    from nightshift.definitions import build_definitions
    from nightshift.instance import cli_instance

    instance = cli_instance(home)
    defs = build_definitions(home, mapping)
    job = defs.resolve_job_def(job_name)
    summaries = []
    with progress_bar() as bar:
        task = bar.add_task(job_name, total=len(days))
        for day in days:
            bar.update(task, description=f"{job_name} {day}")
            results = [execute(job, day.isoformat(), instance, {})]
            if collect:
                bar.update(task, description=f"waiting for the batches of {day}")
                results += collect_through_sensor(defs, instance)
            summary = {"day": day.isoformat(), "run_id": results[0].run_id}
            failed = [c.check_name for r in results for c in r.get_asset_check_evaluations() if not c.passed]
            for result in results:
                for event in result.get_asset_materialization_events():
                    summary.update({k: v.value for k, v in event.materialization.metadata.items()
                                    if isinstance(v.value, (int, float, str)) and not k.startswith("dagster/")})
            if collect:
                summary.update(BatchLedger(defs.resources["warehouse"], None, defs.resources["prices"].table()).day_totals(day))
            summary["checks"] = ", ".join(failed) or "passed"
            summaries.append(summary)
            bar.advance(task)
    return summaries


def execute(job, partition_key: str, instance, tags: dict):
    result = job.execute_in_process(
        partition_key=partition_key, instance=instance, tags={"nightshift/launched_by": "cli", **tags},
        run_config=QUIET_RUN, raise_on_error=False,
    )
    if not result.success:
        raise fail(f"{job.name} run {result.run_id} for {partition_key} failed; see `nightshift dev` or the logs above")
    return result


def collect_through_sensor(defs, instance, tick_s: float = 1.0) -> list:
    """Tick batch_sensor until no batch is open, running each collect_job it asks for (once per run key)."""
    import time

    import dagster as dg

    from nightshift.batch_ledger import BatchLedger

    sensor, job = defs.resolve_sensor_def("batch_sensor"), defs.resolve_job_def("collect_job")
    resources = defs.resources
    ledger = BatchLedger(resources["warehouse"], None, resources["prices"].table())
    cursor, seen, results = None, set(), []
    while ledger.open_batches():
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources, definitions=defs) as context:
            tick = sensor.evaluate_tick(context)
        cursor = tick.cursor or cursor
        requests = [r for r in tick.run_requests or [] if r.run_key not in seen]
        for request in requests:
            seen.add(request.run_key)
            results.append(execute(job, request.partition_key, instance, {**request.tags, "dagster/run_key": request.run_key}))
        if not requests:
            time.sleep(tick_s)  # between ticks, as the daemon waits between them
    return results


# Summary columns: (header, metadata key); a column shows only when some day has that key.
COLUMNS = (
    ("in", "rows_in"), ("stored", "rows_stored"), ("quarantined", "rows_quarantined"), ("redacted", "redactions"),
    ("embedded", "embedded"), ("tickets/s", "tickets_per_s"), ("cache", "route_cache"),
    ("small", "route_small_model"), ("frontier", "route_frontier"), ("realtime", "route_realtime"),
    ("expected $", "expected_usd"), ("answered", "status_ok"), ("failed", "status_failed"), ("$ spent", "spent_usd"),
    ("frontier sync $", "baseline_usd"), ("saving", "saving"), ("checks", "checks"),
)
# Once a day's answers are in, actual $ replace the estimate and ingest details give way to the cost.
SUPERSEDED = {"spent_usd": ("expected_usd", "redactions", "tickets_per_s", "embedded")}


def cell(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_summaries(summaries: list[dict]) -> None:
    hidden = {k for key, keys in SUPERSEDED.items() if any(key in s for s in summaries) for k in keys}
    shown = [(header, key) for header, key in COLUMNS if key not in hidden and any(key in s for s in summaries)]
    table = Table("day", *(header for header, _ in shown))
    for s in summaries:
        table.add_row(s["day"], *(cell(s.get(key, "")) for _, key in shown))
    if any("spent_usd" in s for s in summaries):
        spent, baseline = sum(s["spent_usd"] for s in summaries), sum(s["baseline_usd"] for s in summaries)
        totals = {"spent_usd": spent, "baseline_usd": baseline, "saving": 1 - spent / baseline if baseline else 0.0}
        totals.update({key: sum(s.get(key, 0) for s in summaries) for _, key in shown
                       if key not in totals and all(isinstance(s.get(key, 0), int) for s in summaries)})
        table.add_row("all", *(cell(totals.get(key, "")) for _, key in shown), style="bold")
    stdout.print(table)


def day_range(start: str, end: str) -> list[date]:
    first = parse_day(start, "--start")
    return days_between(first, parse_day(end, "--end") if end else first)


def checked_map(spec: str | None) -> str | None:
    from nightshift.mapping import MappingError, parse_map

    try:
        parse_map(spec)
    except MappingError as exc:
        raise fail(str(exc)) from None
    return spec


End = Annotated[str, typer.Option(help="Last day, inclusive (default: --start).")]


@app.command()
def ingest(start: Day, end: End = "", map: MapOpt = None) -> None:
    """Ingest and embed a range of days (ingest_job), recorded in the Dagster instance."""
    print_summaries(run_job(Home.from_env(), "ingest_job", day_range(start, end), checked_map(map)))


@app.command()
def run(start: Day, end: End = "", map: MapOpt = None) -> None:
    """Run the nightly job for a range of days and wait for its batches: ingest, embed, triage, synthesize, collect."""
    print_summaries(run_job(Home.from_env(), "nightly_job", day_range(start, end), checked_map(map), collect=True))


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days of sample tickets, ending yesterday (UTC).")] = 3,
) -> None:
    """Run the whole chain on generated sample tickets: ingest, embed, triage, batches through the local engine, collect."""
    from nightshift.sample_tickets import write_days

    home = Home.from_env()
    first = default_start(days)
    write_days(home.landing, first, days)
    console.print(f"nightshift home: {home.root}")
    summaries = run_job(home, "nightly_job", days_between(first, first + timedelta(days=days - 1)), None, collect=True)
    print_summaries(summaries)
    print(
        "\nTry:\n"
        "  nightshift query \"SELECT day, label, count(*) AS n FROM tickets GROUP BY ALL ORDER BY n DESC LIMIT 10\"\n"
        "  nightshift query \"SELECT reason, source_file, source_line FROM tickets_quarantine\"\n"
        "  nightshift query \"SELECT route, count(*) AS n, round(sum(usd), 4) AS usd, round(sum(frontier_sync_usd), 4) AS sync_usd "
        "FROM ticket_responses GROUP BY 1\"\n"
        "  nightshift query \"SELECT ticket_id, route, model, summary, draft_reply FROM ticket_responses LIMIT 5\"\n"
        "  nightshift query \"SELECT day, markdown FROM daily_digests\" --format json\n"
        "  nightshift dev   # the Dagster UI, with these runs"
    )


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run SQL against the DuckDB warehouse and print the result."""
    import duckdb

    from nightshift.resources.warehouse import open_database

    if format not in ("table", "csv", "json"):
        raise fail(f"--format must be table, csv or json, got {format!r}")
    path = Home.from_env().warehouse
    if not path.exists():
        raise fail(f"no warehouse at {path}: run `nightshift demo` or `nightshift ingest` first")
    try:
        with open_database(str(path), read_only=True, wait_s=10) as con:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise fail(str(exc)) from None
    if format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif format == "json":
        print(json.dumps([dict(zip(columns, row)) for row in rows], default=str, indent=1))
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        stdout.print(table)


@app.command()
def report(days: Annotated[int, typer.Option(help="Days back from today (UTC).")] = 30) -> None:
    """Cost and quality per day (daily_cost_and_quality) and over all of them."""
    from nightshift import report as table_of
    from nightshift.resources.warehouse import open_database

    path = Home.from_env().warehouse
    if not path.exists():
        raise fail(f"no warehouse at {path}: run `nightshift demo` or `nightshift run` first")
    since = datetime.now(timezone.utc).date() - timedelta(days=days)
    with open_database(str(path), read_only=True, wait_s=10) as con:
        has_table = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'daily_cost_and_quality'").fetchall()[0][0]
        if not has_table:
            raise fail("no cost-and-quality rows yet: materialize daily_cost_and_quality (collect_job) first")
        cursor = con.execute("SELECT * FROM daily_cost_and_quality WHERE day > ? ORDER BY day", [since])
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    if not rows:
        raise fail(f"no day after {since} has a cost-and-quality row")
    out = Table(*(header for header, _, _ in table_of.COLUMNS))
    out.columns[0].no_wrap, out.columns[0].min_width = True, 10  # a day is never cut to "2026-11…"
    for row in rows:
        out.add_row(*table_of.cells(row))
    out.add_row(*table_of.cells(table_of.totals(rows)), style="bold")
    stdout.print(out)


eval_app = typer.Typer(help="Evaluate the triage model and the semantic cache on a labelled CSV.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def labelled(path: Path, spec: str | None):
    from nightshift.evaluation import read_labelled
    from nightshift.mapping import MappingError, parse_map

    try:
        data = read_labelled(path, parse_map(spec))
    except MappingError as exc:
        raise fail(str(exc)) from None
    if len(set(data.labels)) < 2:
        raise fail(f"{path.name}: need at least two labels to evaluate, found {len(set(data.labels))}")
    return data


CsvArg = Annotated[Path, typer.Option("--csv", exists=True, dir_okay=False, help="A labelled CSV.")]


@eval_app.command("triage")
def eval_triage_command(
    csv_file: CsvArg,
    map: MapOpt = None,
    test_csv: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, help="Train on all of --csv, test on this file.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the 80/20 split.")] = 0,
    hold_out_labels: Annotated[int, typer.Option(help="Without --test-csv: keep this many labels out of training, "
                                                      "to see where the router sends intents it never saw.")] = 0,
) -> None:
    """Accuracy and macro-F1 of the triage model (and a TF-IDF baseline) on a split or a second file."""
    from nightshift.embedder import MiniLMEmbedder
    from nightshift.evaluation import eval_triage

    data = labelled(csv_file, map)
    test = labelled(test_csv, map) if test_csv else None
    if test and hold_out_labels:
        raise fail("--hold-out-labels applies to a split of --csv, not to --test-csv")
    result = eval_triage(data, MiniLMEmbedder(), console.print, test=test, seed=seed, hold_out_labels=hold_out_labels)
    print(json.dumps(result))


@eval_app.command("cache")
def eval_cache_command(
    csv_file: CsvArg,
    map: MapOpt = None,
    fill: Annotated[float, typer.Option(help="Share of rows that fill the cache; the rest query it.")] = 0.5,
    max_false_hits: Annotated[float, typer.Option(help="Largest acceptable false-hit rate.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of the fill/query split.")] = 0,
) -> None:
    """Hit rate and false-hit rate of the semantic cache per similarity threshold, and the one chosen."""
    from nightshift.embedder import MiniLMEmbedder
    from nightshift.evaluation import eval_cache

    if not 0 < fill < 1:
        raise fail("--fill must be between 0 and 1")
    result = eval_cache(labelled(csv_file, map), MiniLMEmbedder(), console.print, fill, seed, max_false_hits)
    print(json.dumps(result))


bench_app = typer.Typer(help="Benchmarks that print ratios against a baseline measured in the same run.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("cost")
def bench_cost(
    csv_file: CsvArg,
    map: MapOpt = None,
    days: Annotated[int, typer.Option(help="Spread the CSV over this many days, ending yesterday.")] = 7,
    keep: Annotated[Optional[Path], typer.Option(help="Use this (new) directory as the home and keep it.")] = None,
) -> None:
    """$ and wall time of nightshift against every ticket sent synchronously to the frontier model.

    Runs in a fresh temporary home with the configured provider (by default the local engine and the
    offline responder, which is not a model: its token counts stand in for a model's). Last line: JSON.
    """
    from nightshift.batch_engine import offline
    from nightshift.cost_bench import report, run
    from nightshift.pricing import load_prices

    if keep and keep.exists() and any(keep.iterdir()):
        raise fail(f"--keep {keep} must be a new or empty directory")
    prices = load_prices(os.environ.get("NIGHTSHIFT_PRICES") or None)
    nights = lambda home, days_, mapping: run_job(home, "nightly_job", days_, mapping, collect=True)  # noqa: E731
    try:
        result = run(csv_file, checked_map(map) or "", days, nights, offline, prices, keep)
    except ValueError as exc:
        raise fail(str(exc)) from None
    print(report(result))


@app.command("batch-server")
def batch_server(
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you mean to share it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8700,
    root: Annotated[Optional[Path], typer.Option(help="Where files and batch state live (default: $NIGHTSHIFT_HOME/batch-server).")] = None,
    chat_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible chat endpoint that runs the lines "
                                                         "(vLLM, Ollama, llama.cpp server); default: the offline responder.")] = None,
    concurrency: Annotated[int, typer.Option(help="Lines in flight at once against --chat-url.")] = 4,
    fail_share: Annotated[float, typer.Option(help="Fault injection: share of lines that fail with HTTP 500.")] = 0.0,
    expire_after: Annotated[Optional[float], typer.Option(help="Fault injection: expire each batch after this share of its lines.")] = None,
    cancel_after: Annotated[Optional[float], typer.Option(help="Fault injection: cancel each batch after this share of its lines.")] = None,
    line_delay: Annotated[float, typer.Option(help="Fault injection: seconds added to every line (a slow batch).")] = 0.0,
) -> None:
    """Serve the local batch engine over the OpenAI Files, Batches and Chat routes.

    A bearer token is required when NIGHTSHIFT_BATCH_TOKEN is set. Point nightshift at it with
    NIGHTSHIFT_LLM=openai OPENAI_BASE_URL=http://127.0.0.1:8700/v1 OPENAI_API_KEY=<the token>.
    """
    import openai

    from nightshift.batch_client import chat_responder
    from nightshift.batch_engine import Faults, LocalBatchEngine, offline
    from nightshift.batch_server import LOOPBACK, BatchServer

    if host not in LOOPBACK and not os.environ.get("NIGHTSHIFT_BATCH_TOKEN"):
        raise fail(f"binding {host} beyond loopback needs NIGHTSHIFT_BATCH_TOKEN set")
    for name, share in (("--fail-share", fail_share), ("--expire-after", expire_after), ("--cancel-after", cancel_after)):
        if share is not None and not 0 <= share <= 1:
            raise fail(f"{name} must be between 0 and 1, got {share}")
    responder = offline
    if chat_url:
        responder = chat_responder(openai.OpenAI(base_url=chat_url, api_key=os.environ.get("NIGHTSHIFT_CHAT_API_KEY") or "unused"))
    engine = LocalBatchEngine(root or Home.from_env().root / "batch-server", responder, concurrency,
                              Faults(fail_share, expire_after, cancel_after, line_delay))
    console.print(f"batch server on http://{host}:{port}/v1, state in {engine.root}, "
                  f"lines answered by {chat_url or 'the offline responder (not a model)'}")
    BatchServer(engine, host, port, os.environ.get("NIGHTSHIFT_BATCH_TOKEN") or None).serve()


@app.command()
def dev(port: Annotated[int, typer.Option(help="UI port.")] = 3000) -> None:
    """Start `dagster dev` (UI and daemon) on this home's Dagster instance, bound to loopback."""
    from nightshift.instance import dagster_home

    dagster_home(Home.from_env())
    # This interpreter's dagster, so the command works without the virtualenv on PATH.
    os.execv(sys.executable, [sys.executable, "-m", "dagster", "dev", "-m", "nightshift.definitions",
                              "-h", "127.0.0.1", "-p", str(port)])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
