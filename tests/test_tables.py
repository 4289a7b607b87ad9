"""What the CLI prints fits a 100-column terminal, and no number is ever cut to "…"."""

import io

import pytest
from rich.console import Console

from nightshift.app import tables
from nightshift.reporting import cost_table

# A big night: six-figure counts, four-figure $, intervals of three-digit samples.
DAY = {
    "day": "2026-11-01", "tickets": 100_000, "route_cache": 31_000, "route_small_model": 52_000, "route_frontier": 16_000,
    "route_realtime": 1_000, "spent_usd": 1234.5678, "baseline_usd": 9876.5432, "saving": 0.875, "tokens": 123_456_789,
    "cache_false_hit_rate": 0.0042, "mean_confidence": 0.9712, "valid_json_rate": 0.998, "failed": 1_234,
    "needs_human_share": 0.012, "batch_turnaround_s": 43_200.0, "rescued_tickets": 12_345, "rescue_usd": 123.4567,
    "check_pass_rate": 0.93, "checks": 15, "checks_passed": 14, "quality_usd": 45.6789,
    **{f"saving_{lever}": 0.1234 for lever in ("batch", "routing", "cache", "prompt_cache")},
    **{f"{key}{route}{end}": value for route in ("small_model", "cache") for infix in ("", "7d_")
       for key, end, value in ((f"sampled_{infix}", "", 250), (f"agreement_{infix}", "", 0.912), (f"agreement_{infix}", "_low", 0.871),
                               (f"agreement_{infix}", "_high", 0.943))},
    **{f"{key}_7d_{route}{end}": value for route in ("small_model", "cache") for key, end, value in (
        ("estimate", "", 0.912), ("estimate", "_low", 0.871), ("estimate", "_high", 0.943), ("estimator", "", "ppi++"), ("effective_n", "", 1234.5))},
}
SUMMARY = {"day": "2026-11-01", "rows_in": 100_500, "rows_stored": 100_000, "rows_quarantined": 500, "route_cache": 31_000,
           "route_small_model": 52_000, "route_frontier": 16_000, "route_realtime": 1_000, "status_ok": 99_000, "status_failed": 1_000,
           "spent_usd": 1234.5678, "baseline_usd": 9876.5432, "saving": 0.875, "checks": "1 failed, 2 warned"}


@pytest.fixture
def printed(monkeypatch) -> io.StringIO:
    out = io.StringIO()
    monkeypatch.setattr(tables, "stdout", Console(file=out, width=100))
    return out


def test_the_report_fits_100_columns_and_cuts_nothing(printed):
    tables.print_report([DAY, {**DAY, "day": "2026-11-02"}])
    text = printed.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 100 and "…" not in text
    assert "1234.5678" in text and "91% (0.87-0.94, 250)" in text and "2026-11-02" in text


def test_a_run_summary_fits_100_columns_and_cuts_nothing(printed):
    tables.print_summaries([SUMMARY, {**SUMMARY, "day": "2026-11-02"}])
    text = printed.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 100 and "…" not in text
    assert "87.5%" in text and "1 failed, 2 warned" in text and "2469.1356" in text  # the all row sums the $


def test_the_wide_report_is_three_tables_of_every_column_for_a_wide_terminal(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(tables, "stdout", Console(file=out, width=200))
    tables.print_report([DAY], wide=True)
    text = out.getvalue()
    assert "…" not in text and "9876.5432" in text and "91% (0.87-0.94, 250)" in text and text.count("┏") == 3
    assert "91% (0.87-0.94, ppi++ 1234)" in text


def test_a_wide_query_result_is_folded_not_cut(printed):
    tables.print_rows(["ticket_id", "draft_reply"], [("T1", "word " * 60)])
    assert "…" not in printed.getvalue() and printed.getvalue().count("word") == 60


def test_the_all_row_of_seconds_per_stage_sums_every_stage():
    nights = [{**DAY, "ingest_s": 1.5, "embed_s": 2.0, "triage_s": 3.0, "submit_s": 0.5, "collect_s": 4.0, "batch_turnaround_s": 60.0},
              {**DAY, "ingest_s": 2.5, "embed_s": None, "triage_s": 1.0, "submit_s": 0.5, "collect_s": 1.0, "batch_turnaround_s": 90.0}]
    last = cost_table.markdown(nights, cost_table.TIME_COLUMNS).splitlines()[-1]
    assert [c.strip() for c in last.strip("|").split("|")] == ["all", "4.0", "2.0", "4.0", "1.0", "90.0", "5.0"]


def test_the_trend_chart_draws_each_routes_estimate_with_its_interval_even_at_its_very_end():
    from nightshift.reporting import trend_chart

    # An interval's end a rounding error inside its centre (Wilson at 100% agreement) once made matplotlib refuse the bars.
    edge = {**DAY, "estimate_7d_small_model": 1.0, "estimate_7d_small_model_high": 0.9999999999999999, "sampled_7d_cache": 0}
    image = trend_chart.png([DAY, edge], target=0.9)
    assert image.startswith(b"\x89PNG") and len(image) > 10_000
