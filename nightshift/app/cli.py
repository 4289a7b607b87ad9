"""The `nightshift` command: sample data, replay, ingest through Dagster, queries, the UI."""

from __future__ import annotations

import csv
import json
import os
import shlex
import shutil
import sys
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, cast

import typer

from nightshift.app.tables import console, print_report, print_rows, print_summaries, progress_bar
from nightshift.lib.home import Home

if TYPE_CHECKING:
    from nightshift.warehouse.database import Warehouse

app = typer.Typer(
    help="nightshift: nightly, asynchronous LLM work on support tickets. State lives in $NIGHTSHIFT_HOME "
    "(default ~/.nightshift).",
    no_args_is_help=True,
    add_completion=False,
)
Day = Annotated[str, typer.Option(help="A day as YYYY-MM-DD (UTC).")]
MapOpt = Annotated[
    Optional[str],
    typer.Option("--map", help="Source columns: field=COLUMN pairs, e.g. text=instruction,label=intent."),
]


DEV_STOP_S = 15  # how long `nightshift dev` waits for the UI and daemon to stop before it kills them


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


@app.command()
def sample(
    start: Day = "",
    days: Annotated[int, typer.Option(help="How many days of tickets.")] = 3,
    per_day: Annotated[int, typer.Option(help="Well-formed tickets per day.")] = 150,
) -> None:
    """Write generated sample tickets (with a few malformed rows) into the landing zone, and the sample help centre into
    the knowledge folder when it is empty."""
    from nightshift.ingest.samples import SampleSpec, write_days
    from nightshift.knowledge.sample import write_sample

    first = parse_day(start, "--start") if start else default_start(days)
    home = Home.from_env()
    for path in write_days(home.landing, first, days, SampleSpec(tickets_per_day=per_day)):
        console.print(f"wrote {path}")
    if articles := write_sample(home.knowledge):
        console.print(f"wrote {len(articles)} sample help-centre articles into {home.knowledge}")


def default_start(days: int) -> date:
    """The first of ``days`` days that end yesterday (UTC), the last complete day."""
    return datetime.now(UTC).date() - timedelta(days=days)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV file.")],
    map: MapOpt = None,
    days: Annotated[Optional[int], typer.Option(help="Spread the rows over this many days (assigns creation times).")] = None,
    start: Day = "",
    created_at_format: Annotated[Optional[str], typer.Option(help="strptime format of the created_at column.")] = None,
) -> None:
    """Spread a CSV over day folders of the landing zone, in canonical column names."""
    from nightshift.ingest.mapping import MappingError, parse_map
    from nightshift.ingest.replay import replay_csv

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
        console.print(f"next: {how_to_call()} ingest --start {days_written[0]} --end {days_written[-1]}")


def run_job(home: Home, job_name: str, days: list[date], mapping: str | None, collect: bool = False) -> list[dict]:
    """Run a job for each day in the CLI's instance, with a progress bar; one summary per day."""
    from nightshift.app.code_location import build_definitions
    from nightshift.app.instance import cli_instance
    from nightshift.app.runner import RunFailed, run_days
    from nightshift.orchestration.partitions import FIRST_DAY

    if days and days[0].isoformat() < FIRST_DAY:
        raise fail(f"{days[0]} is before the first partition, {FIRST_DAY} (NIGHTSHIFT_FIRST_DAY, else the first day in "
                   f"{Home.from_env().landing}); "
                   "set NIGHTSHIFT_FIRST_DAY=YYYY-MM-DD for earlier days")
    with progress_bar() as bar:
        task = bar.add_task(job_name, total=len(days))

        def on_day(day: date, step: str) -> None:
            bar.update(task, description=f"{step} {day}", completed=days.index(day))

        try:
            return run_days(build_definitions(home, mapping), cli_instance(home), job_name, days, collect, on_day)
        except RunFailed as exc:
            raise fail(str(exc)) from None


def day_range(start: str, end: str) -> list[date]:
    first = parse_day(start, "--start")
    return days_between(first, parse_day(end, "--end") if end else first)


def checked_map(spec: str | None) -> str | None:
    from nightshift.ingest.mapping import MappingError, parse_map

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
    model: Annotated[str, typer.Option(help="Who answers: 'offline' (the offline responder, not a model: fast) or 'local' "
                                            "(SmolLM2-135M on llama.cpp, started on loopback; `bash dev.sh model` installs it).")] = "offline",
    per_day: Annotated[Optional[int], typer.Option(help="Well-formed tickets per day (default 150; 8 with --model local, "
                                                        "whose answers take seconds each).")] = None,
) -> None:
    """Run the whole chain on generated sample tickets: ingest, embed, triage, batches through the local engine, collect."""
    from contextlib import nullcontext

    from nightshift.ingest.samples import SampleSpec, write_days
    from nightshift.knowledge.sample import write_sample
    from nightshift.llm import local_model

    if model not in ("offline", "local"):
        raise fail(f"--model must be offline or local, got {model!r}")
    home = Home.from_env()
    first = default_start(days)
    write_days(home.landing, first, days, SampleSpec(tickets_per_day=per_day or (8 if model == "local" else 150)))
    write_sample(home.knowledge)
    console.print(f"nightshift home: {home.root}")
    try:
        server = local_model.running(log=home.root / "model-server.log") if model == "local" else nullcontext(None)
        with server as chat_url:
            if chat_url:
                # The local batch engine sends every line (small model and frontier routes alike) to this one server.
                os.environ.update(NIGHTSHIFT_LLM="local", NIGHTSHIFT_CHAT_URL=chat_url, NIGHTSHIFT_CHAT_DIALECT=local_model.DIALECT)
                console.print(f"answers by {local_model.MODEL_NAME}, a real model, at {chat_url}")
            summaries = run_job(home, "nightly_job", days_between(first, first + timedelta(days=days - 1)), None, collect=True)
    except local_model.ModelUnavailable as exc:
        raise fail(str(exc)) from None
    print_summaries(summaries)
    console.print("answers by " + (f"{local_model.MODEL_NAME} on this machine; $ are priced as if the routes' models "
                                   "(nightshift/data/prices.json) had used the same tokens" if model == "local" else
                                   "the offline responder: a stand-in that is not a model (`--model local` for a real one)"))
    me = how_to_call()
    tries = [
        'query "SELECT day, label, count(*) AS n FROM tickets GROUP BY ALL ORDER BY n DESC LIMIT 10"',
        'query "SELECT reason, source_file, source_line FROM tickets_quarantine"',
        'query "SELECT route, count(*) AS n, round(sum(usd), 4) AS usd, round(sum(frontier_sync_usd), 4) AS sync_usd '
        'FROM ticket_responses GROUP BY 1"',
        'query "SELECT ticket_id, route, model, summary, draft_reply FROM ticket_responses LIMIT 5"',
        'query "SELECT route, cited_titles, grounded FROM ticket_responses LIMIT 5"   # the articles each answer cites',
        'query "SELECT day, markdown FROM daily_digests" --format json',
        'query "SELECT route, status, agrees, reason FROM answer_quality LIMIT 5"   # the judge\'s verdicts',
        'query "SELECT route, admitted, trust, reasons FROM cache_admissions LIMIT 5"   # what the cache took, and why not',
        "report   # cost, the saving by lever, and each cheap route's measured agreement",
        f"trace {example_ticket(home)}   # one ticket's journey: triage, route, every request and attempt, the answer, $",
        f"trace --failed --day {first + timedelta(days=days - 1)}   # the day's failed and held tickets, each with why",
        "dev   # the Dagster UI, with these runs",
    ]
    home_line = [f"export NIGHTSHIFT_HOME={shlex.quote(str(home.root))}"] if os.environ.get("NIGHTSHIFT_HOME") else []
    print("\nTry:\n" + "\n".join(f"  {line}" for line in [*home_line, *(f"{me} {t}" for t in tries)]))


def how_to_call() -> str:
    """This program as the user can type it again: `nightshift` when that is on PATH, else the path it was run by
    (`.venv/bin/nightshift` after `bash dev.sh demo`), so printed commands work as printed."""
    program = Path(sys.argv[0])
    if program.name != "nightshift":  # run some other way (tests, python -c): the installed name
        return "nightshift"
    found = shutil.which("nightshift")
    if found and Path(found).resolve() == program.resolve():
        return "nightshift"
    relative = os.path.relpath(program.resolve(), Path.cwd())
    return shlex.quote(relative if not relative.startswith("..") else str(program.resolve()))


def existing_warehouse(home: Home) -> Warehouse:
    """The home's warehouse, which a night has written (a lake is there once configured)."""
    from nightshift.app.locations import warehouse_location
    from nightshift.warehouse.database import Warehouse

    location, data = warehouse_location(home)
    db = Warehouse(location, lock_wait_s=10, data_path=data)
    if not db.is_lake and not Path(db.path).exists():
        raise fail(f"no warehouse at {db.path}: run `nightshift demo` or `nightshift run` first")
    return db


def example_ticket(home: Home) -> str:
    """A ticket a model answered, to show `nightshift trace` on."""
    rows = existing_warehouse(home).rows("SELECT min(ticket_id) AS t FROM ticket_responses WHERE source IN ('batch', 'sync')")
    return rows[0]["t"] or "TICKET_ID"


def reading_only() -> None:
    """For a command that reads the warehouse and loads nothing else: DuckDB imports pandas (0.2-0.3 s, as long as the
    rest of the command's imports together) the first time a query has a parameter, only to ask whether the value is a
    pandas one. None is, so the command tells Python that pandas is absent; DuckDB expects that and goes on."""
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]


@app.command()
def trace(
    ticket_id: Annotated[Optional[str], typer.Argument(help="The ticket to follow, by its id.")] = None,
    day: Annotated[Optional[str], typer.Option(help="With --failed: the day (YYYY-MM-DD).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="List the day's failed and held tickets, each with why.")] = False,
    vector: Annotated[bool, typer.Option("--vector", help="Also look its vector up in LanceDB (a second or two to load).")] = False,
) -> None:
    """One ticket's journey: where it landed, redactions by kind, triage and route, safety, retrieved passages, every
    request and attempt with its batch and error, the answer with its citations, $ and tokens, and its day's checks."""
    from nightshift.observability import journey
    from nightshift.warehouse.journeys import JourneySQL

    if not vector:  # LanceDB uses pandas
        reading_only()
    home = Home.from_env()
    db = existing_warehouse(home)
    if failed:
        if not day:
            raise fail("--failed lists one day's failures: give --day YYYY-MM-DD")
        print(journey.failures(day, JourneySQL(db).failed(parse_day(day, "--day"))))
        return
    if not ticket_id:
        raise fail("give a ticket id, or --failed --day YYYY-MM-DD")
    found = JourneySQL(db).of(ticket_id)
    if found is None:
        raise fail(f"no ticket {ticket_id} in {db.path} (a quarantined row has no ticket: see tickets_quarantine)")
    dimensions = None
    if vector:
        from nightshift.app.settings import resources_for
        from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore

        dimensions = cast(LanceDBStore, resources_for(home)["vectors"]).dimensions(EMBEDDINGS, ticket_id)
    # Printed as it is: the ticket's data is text, never terminal markup.
    print(journey.markdown(found, JourneySQL(db).attempts_of(ticket_id), dimensions, looked_up=vector))


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run SQL against the warehouse (its DuckDB file or its lake) and print the result."""
    import duckdb

    if format not in ("table", "csv", "json"):
        raise fail(f"--format must be table, csv or json, got {format!r}")
    reading_only()
    try:
        with existing_warehouse(Home.from_env()).connect(read_only=True) as con:
            # A file is opened read-only; a lake has no such mode, so whatever the SQL changed is rolled back.
            con.execute("BEGIN TRANSACTION")
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
            con.execute("ROLLBACK")
    except duckdb.Error as exc:
        raise fail(str(exc)) from None
    if format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif format == "json":
        print(json.dumps([dict(zip(columns, row)) for row in rows], default=str, indent=1))
    else:
        print_rows(columns, rows)


@app.command()
def report(
    days: Annotated[int, typer.Option(help="Days back from today (UTC).")] = 30,
    plot: Annotated[Optional[Path], typer.Option(dir_okay=False, help="Also write the trend chart (as in the UI) to this PNG.")] = None,
    wide: Annotated[bool, typer.Option("--wide", help="Three tables of every column, one row a day (about 190 columns wide).")] = False,
) -> None:
    """Cost and quality per day (daily_cost_and_quality) and over all of them."""
    from nightshift.warehouse.reports import ReportsSQL

    if not plot:  # the chart's settings load the pipeline, which uses pandas
        reading_only()
    since = datetime.now(UTC).date() - timedelta(days=days)
    rows = ReportsSQL(existing_warehouse(Home.from_env())).days(since)
    if not rows:
        raise fail(f"no day after {since} has a cost-and-quality row: materialize daily_cost_and_quality (collect_job) first")
    print_report(rows, wide)
    if plot:
        from nightshift.app.settings import resources_for
        from nightshift.reporting import trend_chart
        from nightshift.resources.quality import QualityPolicy

        quality = resources_for(Home.from_env(), None)["quality"]
        assert isinstance(quality, QualityPolicy)
        plot.write_bytes(trend_chart.png(rows, quality.target))
        console.print(f"trend chart: {plot}", highlight=False)


eval_app = typer.Typer(help="Evaluate the triage model, the semantic cache and the answers on a labelled CSV.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def labelled(path: Path, spec: str | None):
    from nightshift.ingest.mapping import MappingError, parse_map
    from nightshift.triage.evaluation import read_labelled

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
    per_label: Annotated[int, typer.Option(help="Train on at most this many rows per label (the last ones), as the "
                                                "nightly model's window does; 0: every row.")] = 0,
) -> None:
    """Accuracy and macro-F1 of the triage model (and a TF-IDF baseline) on a split or a second file."""
    from nightshift.ingest.encoders import MiniLMEmbedder
    from nightshift.triage.evaluation import eval_triage

    data = labelled(csv_file, map)
    test = labelled(test_csv, map) if test_csv else None
    if test and hold_out_labels:
        raise fail("--hold-out-labels applies to a split of --csv, not to --test-csv")
    result = eval_triage(data, MiniLMEmbedder(), console.print, test=test, seed=seed, hold_out_labels=hold_out_labels,
                         per_label=per_label)
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
    from nightshift.ingest.encoders import MiniLMEmbedder
    from nightshift.resources.answer_cache import AnswerCache
    from nightshift.resources.vector_store import LanceDBStore
    from nightshift.triage.evaluation import eval_cache

    if not 0 < fill < 1:
        raise fail("--fill must be between 0 and 1")
    result = eval_cache(labelled(csv_file, map), MiniLMEmbedder(), console.print, lambda uri: AnswerCache(vectors=LanceDBStore(uri=uri)),
                        fill, seed, max_false_hits)
    print(json.dumps(result))


@eval_app.command("safety")
def eval_safety_command(
    csv_file: CsvArg,
    map: Annotated[Optional[str], typer.Option(help="text=COL[,label=COL][,language=COL][,technique=COL]; without a label every "
                                                    "row counts as ordinary, which measures the false-hold rate.")] = None,
    show: Annotated[int, typer.Option(help="Print this many of the rows the screen got wrong.")] = 20,
) -> None:
    """Recall, precision and false-hold rate of the safety screen, per label, language and technique."""
    from nightshift.safety.evaluation import EvalError, evaluate, read

    try:
        cases = read(csv_file, map)
    except EvalError as exc:
        raise fail(str(exc)) from None
    wrong: list[str] = []
    result = evaluate(cases, wrong.append)
    for line in wrong[:show]:
        console.print(line, highlight=False, markup=False)
    for key in ("overall", *(k for k in result if k.startswith("by_"))):
        groups = {"all": result[key]} if key == "overall" else result[key]
        columns = ["rows", "should_hold", "held", "recall", "precision", "false_hold_rate"]
        print_rows([key.removeprefix("by_"), *columns], [(name, *(f[c] for c in columns)) for name, f in groups.items()])
    print(json.dumps(result))


@eval_app.command("answers")
def eval_answers_command(
    csv_file: CsvArg,
    map: MapOpt = None,
    rows: Annotated[int, typer.Option(help="Held-out rows to answer (each is a model call unless the cache serves it).")] = 200,
    judge: Annotated[bool, typer.Option(help="Also ask the frontier model to judge each answer against the reference.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the 80/20 split and of the rows picked.")] = 0,
) -> None:
    """Answers to held-out rows through the configured model path (NIGHTSHIFT_CHAT_URL, or the offline responder),
    routed as a night would route them, scored per route against the label and the reference reply.

    Map the reference with reference=COLUMN (bitext: reference=response). Last line: JSON.
    """
    from nightshift.ingest.encoders import MiniLMEmbedder
    from nightshift.llm.client import responder_for
    from nightshift.llm.pricing import load_prices
    from nightshift.quality.answer_eval import eval_answers

    data = labelled(csv_file, map)
    if data.references is None:
        raise fail("no reference replies: map a column with reference=COLUMN (bitext: reference=response)")
    env = os.environ.get
    chat_url = env("NIGHTSHIFT_CHAT_URL")
    console.print(f"answers by {chat_url or 'the offline responder (not a model)'}")
    responder = responder_for(chat_url, env("NIGHTSHIFT_CHAT_API_KEY"), env("NIGHTSHIFT_CHAT_DIALECT", "json_schema"))
    result = eval_answers(data, MiniLMEmbedder(), responder, load_prices(env("NIGHTSHIFT_PRICES") or None), console.print,
                          rows, seed, judge)
    print(json.dumps({**result, "responder": chat_url or "offline"}))


@eval_app.command("macros")
def eval_macros_command(
    csv_file: CsvArg,
    out: Annotated[Path, typer.Option(file_okay=False, help="Writes OUT/kb/macros.csv (the slice) and OUT/tickets.csv (the rest).")],
    map: MapOpt = None,
    per_label: Annotated[int, typer.Option(help="Reference replies held apart per intent as canned replies.")] = 3,
) -> None:
    """Hold a few reference replies per intent apart as a macro knowledge base, and the other rows as tickets to evaluate.

    Per intent, the rows kept are those whose ticket text has the smallest SHA-256. Map text, label and reference
    (bitext: text=instruction,label=intent,reference=response).
    """
    from nightshift.knowledge.evaluation import write_slice

    data = labelled(csv_file, map)
    try:
        macros, tickets = write_slice(data, per_label, out)
    except ValueError as exc:
        raise fail(str(exc)) from None
    console.print(f"wrote {macros} and {tickets}")
    print(json.dumps({"macros": str(macros), "tickets": str(tickets), "per_label": per_label}))


@eval_app.command("retrieval")
def eval_retrieval_command(
    csv_file: CsvArg,
    kb: Annotated[Path, typer.Option(exists=True, file_okay=False, help="A knowledge folder whose articles carry labels.")],
    map: MapOpt = None,
    kb_map: Annotated[Optional[str], typer.Option(help="Column mapping of the folder's CSV macros (text=COL,label=COL,...).")] = None,
    k: Annotated[int, typer.Option(help="Passages retrieved per ticket.")] = 5,
) -> None:
    """recall@k and MRR of hybrid, vector-only and full-text-only retrieval: a hit is a passage of an article labelled
    with the ticket's intent. Last line: JSON."""
    from nightshift.ingest.encoders import MiniLMEmbedder
    from nightshift.ingest.mapping import MappingError, parse_map
    from nightshift.knowledge.evaluation import eval_retrieval

    try:
        result = eval_retrieval(labelled(csv_file, map), kb, parse_map(kb_map), MiniLMEmbedder(), console.print, k)
    except (MappingError, ValueError) as exc:
        raise fail(str(exc)) from None
    print(json.dumps(result))


bench_app = typer.Typer(help="Benchmarks that print ratios against a baseline measured in the same run.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("cost")
def bench_cost(
    csv_file: CsvArg,
    map: MapOpt = None,
    days: Annotated[int, typer.Option(help="Spread the CSV over this many days, ending yesterday.")] = 7,
    keep: Annotated[Optional[Path], typer.Option(help="Use this (new) directory as the home and keep it.")] = None,
    routes: Annotated[Optional[str], typer.Option(help="The provider mix: models for some routes, route=model,... (e.g. "
                                                      "frontier=claude-sonnet-5-5,realtime=claude-sonnet-5-5); "
                                                      "default NIGHTSHIFT_ROUTES, else the price table's.")] = None,
    against_open_cache: Annotated[bool, typer.Option(help="Also run the same nights with the cache as it was before its admission "
                                                          "rules (every answer the judge did not reject, served at once), and "
                                                          "print both savings.")] = False,
) -> None:
    """$ and wall time of nightshift against every ticket sent synchronously to the frontier model, and $ per provider.

    Runs in a fresh temporary home with the configured provider (by default the local engine and the
    offline responder, which is not a model: its token counts stand in for a model's, whichever provider's
    price applies). Last line: JSON.
    """
    from nightshift.app.cost_bench import report, run
    from nightshift.llm.engine import offline
    from nightshift.llm.pricing import load_prices, parse_routes

    if keep and keep.exists() and any(keep.iterdir()):
        raise fail(f"--keep {keep} must be a new or empty directory")
    if routes is not None:
        os.environ["NIGHTSHIFT_ROUTES"] = routes  # the nights build their resources from the environment
    try:
        prices = load_prices(os.environ.get("NIGHTSHIFT_PRICES") or None).with_routes(parse_routes(os.environ.get("NIGHTSHIFT_ROUTES", "")))
    except (KeyError, ValueError) as exc:
        raise fail(str(exc).strip("'\"")) from None
    nights = lambda home, days_, mapping: run_job(home, "nightly_job", days_, mapping, collect=True)  # noqa: E731
    try:
        if against_open_cache:
            os.environ["NIGHTSHIFT_CACHE_ADMISSION"] = "open"
            try:
                opened = run(csv_file, checked_map(map) or "", days, nights, offline, prices, None)
            finally:
                del os.environ["NIGHTSHIFT_CACHE_ADMISSION"]
            print("the cache before its admission rules:\n" + report(opened) + "\n\nwith the rules:")
        result = run(csv_file, checked_map(map) or "", days, nights, offline, prices, keep)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if against_open_cache:
        print(f"the admission rules: saving {result['saving']:.1%} with {result['route_cache']} cache serves, against "
              f"{opened['saving']:.1%} with {opened['route_cache']} open; they cost {opened['saving'] - result['saving']:.1%} of the baseline")
    print(report(result))


@app.command("batch-server")
def batch_server(
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you mean to share it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8700,
    root: Annotated[Optional[Path], typer.Option(help="Where files and batch state live (default: $NIGHTSHIFT_HOME/batch-server).")] = None,
    chat_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible chat endpoint that runs the lines "
                                                         "(vLLM, Ollama, llama.cpp server); default: the offline responder.")] = None,
    concurrency: Annotated[int, typer.Option(help="Lines in flight at once against --chat-url.")] = 4,
    chat_dialect: Annotated[str, typer.Option(help="How --chat-url takes structured output: json_schema (OpenAI, vLLM), "
                                                   "json_object (llama.cpp server) or prompt.")] = "json_schema",
    fail_share: Annotated[float, typer.Option(help="Fault injection: share of lines that fail with HTTP 500.")] = 0.0,
    expire_after: Annotated[Optional[float], typer.Option(help="Fault injection: expire each batch after this share of its lines.")] = None,
    cancel_after: Annotated[Optional[float], typer.Option(help="Fault injection: cancel each batch after this share of its lines.")] = None,
    line_delay: Annotated[float, typer.Option(help="Fault injection: seconds added to every line (a slow batch).")] = 0.0,
    wrong_share: Annotated[float, typer.Option(help="Fault injection: share of reply answers given a wrong category and "
                                                    "an off-topic draft (valid JSON: only the judge notices).")] = 0.0,
    wrong_model: Annotated[Optional[str], typer.Option(help="With --wrong-share: only this model's answers "
                                                            "(e.g. the small model's); default every model's.")] = None,
    fabricate_share: Annotated[float, typer.Option(help="Fault injection: share of reply answers citing a passage they were not "
                                                        "given, until a retry says so.")] = 0.0,
    off_topic_share: Annotated[float, typer.Option(help="Fault injection: share of reply answers whose draft is off-topic, "
                                                        "the category left as it was.")] = 0.0,
    echo_share: Annotated[float, typer.Option(help="Fault injection: share of reply answers whose draft repeats the ticket's "
                                                   "values (account numbers, ids, keys).")] = 0.0,
    parrot_share: Annotated[float, typer.Option(help="Fault injection: share of reply answers whose draft repeats the model's "
                                                     "instructions instead of a reply.")] = 0.0,
    contradict_share: Annotated[float, typer.Option(help="Fault injection: share of reply answers whose draft stays on topic but "
                                                         "contradicts the passage it cites (its numbers changed, or negated).")] = 0.0,
) -> None:
    """Serve the local batch engine over the OpenAI Files, Batches and Chat routes, and Anthropic's Message Batches
    and Messages routes.

    The token is required when NIGHTSHIFT_BATCH_TOKEN is set. Point nightshift at it with
    NIGHTSHIFT_LLM=openai OPENAI_BASE_URL=http://127.0.0.1:8700/v1 OPENAI_API_KEY=<the token>, and for Claude models
    ANTHROPIC_BASE_URL=http://127.0.0.1:8700 ANTHROPIC_API_KEY=<the token>.
    """
    from nightshift.llm.client import responder_for
    from nightshift.llm.dialects import DIALECTS
    from nightshift.llm.engine import Faults, LocalBatchEngine
    from nightshift.llm.server import LOOPBACK, BatchServer

    if host not in LOOPBACK and not os.environ.get("NIGHTSHIFT_BATCH_TOKEN"):
        raise fail(f"binding {host} beyond loopback needs NIGHTSHIFT_BATCH_TOKEN set")
    for name, share in (("--fail-share", fail_share), ("--expire-after", expire_after), ("--cancel-after", cancel_after),
                        ("--wrong-share", wrong_share), ("--fabricate-share", fabricate_share),
                        ("--off-topic-share", off_topic_share), ("--echo-share", echo_share), ("--parrot-share", parrot_share),
                        ("--contradict-share", contradict_share)):
        if share is not None and not 0 <= share <= 1:
            raise fail(f"{name} must be between 0 and 1, got {share}")
    if chat_dialect not in DIALECTS:
        raise fail(f"--chat-dialect must be one of {', '.join(DIALECTS)}, got {chat_dialect!r}")
    responder = responder_for(chat_url, os.environ.get("NIGHTSHIFT_CHAT_API_KEY"), chat_dialect)
    engine = LocalBatchEngine(root or Home.from_env().root / "batch-server", responder, concurrency,
                              Faults(fail_share, expire_after, cancel_after, line_delay, wrong_share, wrong_model, fabricate_share,
                                     off_topic_share, echo_share, parrot_share, contradict_share))
    console.print(f"batch server on http://{host}:{port}/v1, state in {engine.root}, "
                  f"lines answered by {chat_url or 'the offline responder (not a model)'}")
    BatchServer(engine, host, port, os.environ.get("NIGHTSHIFT_BATCH_TOKEN") or None).serve()


@app.command("model-server")
def model_server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    threads: Annotated[int, typer.Option(help="CPU threads for the model.")] = os.cpu_count() or 2,
) -> None:
    """Serve the small local model (SmolLM2-135M-Instruct on llama.cpp) as an OpenAI-compatible chat endpoint on loopback."""
    from nightshift.llm import local_model

    try:
        model = local_model.require()
    except local_model.ModelUnavailable as exc:
        raise fail(str(exc)) from None
    console.print(f"{local_model.MODEL_NAME} from {model}\nPoint nightshift at it:\n"
                  f"  export NIGHTSHIFT_LLM=local NIGHTSHIFT_CHAT_URL=http://127.0.0.1:{port}/v1 "
                  f"NIGHTSHIFT_CHAT_DIALECT={local_model.DIALECT}")
    command = local_model.server_command(model, "127.0.0.1", port, threads)
    os.execv(command[0], command)


@app.command("instance-yaml")
def instance_yaml_command() -> None:
    """Print nightshift's dagster.yaml (with the PostgreSQL block when DAGSTER_PG_URL is set), for a DAGSTER_HOME of your own."""
    from nightshift.app.instance import instance_yaml

    sys.stdout.write(instance_yaml())


@app.command()
def worker(
    name: Annotated[Optional[str], typer.Option(help="Its name on the broker (NAME@host), shown in each step's event log.")] = None,
    concurrency: Annotated[int, typer.Option(help="Steps it runs at once, each in a process of its own.")] = 1,
) -> None:
    """A Celery worker that executes the steps of nightshift's jobs sent to NIGHTSHIFT_CELERY_BROKER (redis://...).

    Give it the environment the jobs run in: the same NIGHTSHIFT_* settings (a lake warehouse, a home or LanceDB URI
    every worker sees) and the same Dagster instance (DAGSTER_PG_URL), where it records each step's events."""
    from nightshift.app.instance import cli_instance
    from nightshift.deployment.broker import BROKER, broker
    from nightshift.orchestration.executors import run_worker

    url = broker()
    if not url:
        raise fail(f"set {BROKER}=redis://host:6379/0, the broker the jobs send their steps to")
    cli_instance(Home.from_env()).dispose()  # DAGSTER_HOME as the orchestrator composes it
    run_worker(url, name, concurrency)


@app.command()
def dev(port: Annotated[int, typer.Option(help="UI port.")] = 3000) -> None:
    """Start `dg dev` (UI and daemon) on this home's Dagster instance, bound to loopback."""
    import signal
    import subprocess

    from nightshift.app.instance import dagster_home, write_workspace

    workspace = write_workspace(dagster_home(Home.from_env()))
    # This interpreter's dg, so the command works without the virtualenv on PATH; the workspace file names the
    # code location as pyproject.toml does, so `nightshift dev` and `dg dev` in the repository show the same runs.
    # In a session of its own: a stop (SIGTERM from a service manager, or Ctrl-C) reaches dg dev as the interrupt it
    # shuts its webserver, daemon and code server down on, and whatever is left after STOP_S is killed, children too.
    server = subprocess.Popen([sys.executable, "-c", "from dagster_dg_cli.cli import main; main()", "dev",
                               "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)], start_new_session=True)

    def stop(signum, frame) -> None:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=DEV_STOP_S)
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # what did not stop in time, and any child dg dev left behind
        raise typer.Exit(code=0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    raise typer.Exit(code=server.wait())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
