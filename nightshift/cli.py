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
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
stdout = Console(width=None if sys.stdout.isatty() else 160)

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


def run_job(home: Home, job_name: str, days: list[date], mapping: str | None) -> list[dict]:
    """Run a day-partitioned job (with its asset checks) for each day, in the instance; one summary per day."""
    from nightshift.definitions import build_definitions
    from nightshift.instance import cli_instance

    instance = cli_instance(home)
    job = build_definitions(home, mapping).resolve_job_def(job_name)
    summaries = []
    with progress_bar() as bar:
        task = bar.add_task(job_name, total=len(days))
        for day in days:
            bar.update(task, description=f"{job_name} {day}")
            result = job.execute_in_process(
                partition_key=day.isoformat(), instance=instance, tags={"nightshift/launched_by": "cli"},
                run_config=QUIET_RUN, raise_on_error=False,
            )
            if not result.success:
                raise fail(f"run {result.run_id} for {day} failed; see `nightshift dev` or the logs above")
            failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
            summary = {"day": day.isoformat(), "run_id": result.run_id, "checks": ", ".join(failed) or "passed"}
            for event in result.get_asset_materialization_events():
                summary.update({k: v.value for k, v in event.materialization.metadata.items()
                                if isinstance(v.value, (int, float, str)) and not k.startswith("dagster/")})
            summaries.append(summary)
            bar.advance(task)
    return summaries


# Summary columns: (header, metadata key); a column shows only when some day has that key.
COLUMNS = (
    ("in", "rows_in"), ("stored", "rows_stored"), ("quarantined", "rows_quarantined"), ("redacted", "redactions"),
    ("embedded", "embedded"), ("tickets/s", "tickets_per_s"), ("cache", "route_cache"),
    ("small", "route_small_model"), ("frontier", "route_frontier"), ("realtime", "route_realtime"),
    ("expected $", "expected_usd"), ("frontier sync $", "frontier_sync_usd"), ("checks", "checks"),
)


def print_summaries(summaries: list[dict]) -> None:
    shown = [(header, key) for header, key in COLUMNS if any(key in s for s in summaries)]
    table = Table("day", *(header for header, _ in shown))
    for s in summaries:
        table.add_row(s["day"], *(str(s.get(key, "")) for _, key in shown))
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
    """Run the nightly job for a range of days: ingest, embed, retrain the triage model, route."""
    print_summaries(run_job(Home.from_env(), "nightly_job", day_range(start, end), checked_map(map)))


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days of sample tickets, ending yesterday (UTC).")] = 3,
) -> None:
    """Run the main job end to end on generated sample tickets: sample, ingest, embed, triage and route."""
    from nightshift.sample_tickets import write_days

    home = Home.from_env()
    first = default_start(days)
    write_days(home.landing, first, days)
    console.print(f"nightshift home: {home.root}")
    summaries = run_job(home, "nightly_job", days_between(first, first + timedelta(days=days - 1)), None)
    print_summaries(summaries)
    print(
        "\nTry:\n"
        "  nightshift query \"SELECT day, label, count(*) AS n FROM tickets GROUP BY ALL ORDER BY n DESC LIMIT 10\"\n"
        "  nightshift query \"SELECT reason, source_file, source_line FROM tickets_quarantine\"\n"
        "  nightshift query \"SELECT route, count(*) AS n, round(sum(expected_usd), 4) AS usd FROM ticket_triage GROUP BY 1\"\n"
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
