"""End to end in a real browser: `nightshift dev` on loopback, driven by Playwright in Debian's headless Chromium."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from nightshift.app.cli import app
from nightshift.app.instance import CODE_LOCATION, instance_yaml
from tests.services import chromium, free_port

# A real server and a real browser.
pytestmark = pytest.mark.slow

DAY = "2026-11-01"
ASSETS = ["raw_tickets", "ticket_embeddings", "knowledge_base", "ticket_context", "triage_model", "ticket_triage", "synthesis_batches",
          "ticket_responses", "answer_quality", "cached_answers", "daily_digest", "daily_cost_and_quality", "retention"]
# Chromium on a machine with no internet: without these it keeps trying to reach Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(1)


@pytest.fixture
def ui(sample_home):
    """A night already run by the CLI into the instance, then `nightshift dev` on that instance."""
    (Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml").write_text(instance_yaml())
    result = CliRunner().invoke(app, ["run", "--start", DAY], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    port = free_port()
    log = open(sample_home.root / "dagster-dev.log", "w")  # a file, not a pipe nobody reads: that would fill and stall it
    dev = subprocess.Popen([sys.executable, "-m", "nightshift.app.cli", "dev", "--port", str(port)], env=os.environ.copy(),
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/server_info")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(dev.pid, 15)
        try:
            dev.wait(timeout=60)
        except subprocess.TimeoutExpired:  # seen once under load: the webserver's own shutdown hung after the daemon's
            os.killpg(dev.pid, 9)
            dev.wait()
        log.close()


def graphql(ui: str, query: str) -> dict:
    request = urllib.request.Request(f"{ui}/graphql", json.dumps({"query": query}).encode(), {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())["data"]


def loaded_snapshot(ui: str, job: str) -> str:
    """The snapshot id of the job as the code server loaded it: a run of another one gets a version warning on Re-execute."""
    params = f'{{repositoryLocationName: "{CODE_LOCATION}", repositoryName: "__repository__", pipelineName: "{job}"}}'
    return graphql(ui, f"{{ pipelineOrError(params: {params}) {{ ... on Pipeline {{ pipelineSnapshotId }} }} }}")[
        "pipelineOrError"]["pipelineSnapshotId"]


def launched_run(before: set[str], timeout: float = 240) -> dg.DagsterRun:
    """The run the UI launched (queued, then started by the daemon), once it has succeeded."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [r for r in dg.DagsterInstance.get().get_runs() if r.run_id not in before]
        if runs and runs[0].status == dg.DagsterRunStatus.SUCCESS:
            assert runs[0].tags["dagster/partition"] == DAY and runs[0].asset_selection == {dg.AssetKey("daily_cost_and_quality")}
            return runs[0]
        assert not runs or runs[0].status not in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED), runs[0].status
        assert time.monotonic() < deadline, "the launched run never finished"
        time.sleep(2)


def same_name(name: str, label: str) -> bool:
    """A graph node's label is the asset name, or at this zoom its middle truncated ("daily_…_and_quality")."""
    head, _, tail = label.replace("...", "…").partition("…")
    return label == name or bool(tail) and name.startswith(head) and name.endswith(tail)


def dismiss_welcome(page) -> None:
    page.wait_for_timeout(3000)  # the community dialog opens once the app has loaded, if at all
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.click()


def test_the_ui_shows_every_asset_launches_a_partition_and_shows_its_cost(ui):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(30_000)

        # The CLI's runs are the code location's: the Overview timeline lists them under their jobs.
        page.goto(f"{ui}/overview/activity/timeline")
        dismiss_welcome(page)
        for job in ("nightly_job", "collect_job"):
            expect(page.get_by_text(job, exact=True).first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "timeline.png")
        cli_runs = dg.DagsterInstance.get().get_runs()
        assert {run.job_name for run in cli_runs} == {"nightly_job", "collect_job"}
        assert all(run.job_snapshot_id == loaded_snapshot(ui, run.job_name) for run in cli_runs)

        # One asset group, so the lineage opens with the whole chain in view: no "expand all" to find it.
        page.goto(f"{ui}/asset-groups")
        page.wait_for_timeout(3000)
        page.screenshot(path=SCREENSHOTS / "asset-graph.png")
        shown = page.locator("[class*=assetNodeContainer] [class*=assetName]").all_inner_texts()
        assert all(any(same_name(name, label) for label in shown) for name in ASSETS), shown

        before = {r.run_id for r in dg.DagsterInstance.get().get_runs()}
        page.goto(f"{ui}/assets/daily_cost_and_quality")
        dismiss_welcome(page)
        page.get_by_role("button", name="Materialize").first.click()
        dialog = page.get_by_role("dialog")
        partitions = dialog.locator("input:visible").first
        partitions.fill(DAY)
        partitions.press("Enter")
        dialog.get_by_role("button", name="Launch 1 run").click()

        run = launched_run(before)
        latest = dg.DagsterInstance.get().get_latest_materialization_event(dg.AssetKey("daily_cost_and_quality"))
        assert latest.run_id == run.run_id
        spent = latest.asset_materialization.metadata["spent_usd"].value

        page.goto(f"{ui}/assets/daily_cost_and_quality")
        expect(page.get_by_text(DAY).first).to_be_visible()  # the latest materialization's partition
        for key in ("saving", "check_pass_rate", "figures"):  # the headline figures, and the table of the rest
            expect(page.get_by_text(key, exact=True).first).to_be_visible()
        page.get_by_placeholder("Filter metadata keys").fill("usd")
        row = page.get_by_role("row").filter(has=page.get_by_text("spent_usd", exact=True))
        expect(row).to_contain_text(str(spent))
        expect(page.get_by_role("row").filter(has=page.get_by_text("baseline_usd", exact=True))).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "asset-page-cost.png")
        # The chart opens from the metadata table.
        page.get_by_placeholder("Filter metadata keys").fill("trend_chart")
        page.get_by_role("row").filter(has=page.get_by_text("trend_chart", exact=True)).get_by_text("Show Markdown").click()
        expect(page.get_by_role("img", name="cost and quality trend")).to_be_in_viewport()
        page.wait_for_timeout(600)  # the dialog fades in: a picture taken at once shows it half transparent over the page
        page.screenshot(path=SCREENSHOTS / "asset-page-trend-chart.png")
        page.get_by_role("dialog").get_by_role("button", name="Close").click()
        # The trend tables, inline when short and in a dialog when long, fit their box to the last column.
        page.get_by_placeholder("Filter metadata keys").fill("trend")
        row = page.get_by_role("row").filter(has=page.get_by_text("trend", exact=True))
        if row.get_by_text("Show Markdown").count():
            row.get_by_text("Show Markdown").click()
            row = page.get_by_role("dialog")
        last = row.get_by_text("cache, 7 days", exact=True)
        last.scroll_into_view_if_needed()
        right, edge = last.bounding_box(), row.bounding_box()
        assert right["x"] + right["width"] <= edge["x"] + edge["width"], (right, edge)
        page.screenshot(path=SCREENSHOTS / "asset-page-trend.png")

        # The quality check on a first night: a few judged answers, all agreeing, cannot decide 0.90 either way; it
        # passes and says it is undecided, rather than warning every night.
        page.goto(f"{ui}/assets/daily_cost_and_quality?view=checks")
        # Dagster's truncating label renders the name twice, once in a hidden copy it measures; click the shown one.
        check = page.get_by_text("cheap_answers_meet_quality_target", exact=True).filter(visible=True).first
        expect(check).to_be_visible()
        check.click()
        # The latest evaluation's description: "passed for <day>: undecided: small_model needs N more agreeing".
        expect(page.get_by_text(f"passed for {DAY}: undecided").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(600)
        page.screenshot(path=SCREENSHOTS / "asset-check-undecided.png")
        browser.close()
