"""Great Expectations suites for a day's rows of the tables users query: schema, keys, value sets, ranges, lengths.

Plain functions of a DataFrame; the asset checks in nightshift.checks.suites read the rows and run them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from nightshift.ingest.rules import Rules, text_hash
from nightshift.lib.markdown import markdown_table
from nightshift.llm import prompts
from nightshift.triage import routing

# Placeholders can be longer than what they replace ("a@b.io" becomes "[EMAIL]"), so the stored redacted text may
# exceed the ingest limit a little; twice the limit still catches a ticket that bypassed it.
REDACTED_MAX_CHARS = 2 * Rules().max_text_chars
ANSWER_STATUSES = ["ok", "pending", "failed", "held"]
ANSWER_SOURCES = ["batch", "sync", "cache", "shadow", "human"]


@dataclass(frozen=True)
class Validation:
    success: bool
    evaluated: int
    success_share: float
    failures: list[dict]  # one per failing expectation: what it asked and what it found

    def markdown(self) -> str:
        if not self.failures:
            return "every expectation met"
        return markdown_table(("expectation", "column", "unexpected", "examples"),
                              [(f["expectation"], f["column"], f["unexpected"], f["examples"]) for f in self.failures])


def not_null(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def at_least_zero(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]


def columns(names: Sequence[str]) -> gxe.ExpectTableColumnsToMatchSet:
    return gxe.ExpectTableColumnsToMatchSet(column_set=list(names), exact_match=True)


def tickets_suite(names: Sequence[str]) -> list:
    return [
        columns(names),
        *not_null("ticket_id", "day", "created_at", "text_redacted", "text_hash", "redactions", "source_file"),
        gxe.ExpectColumnValuesToBeUnique(column="ticket_id"),
        gxe.ExpectColumnValueLengthsToBeBetween(column="text_redacted", min_value=1, max_value=REDACTED_MAX_CHARS),
        gxe.ExpectColumnValueLengthsToEqual(column="text_hash", value=len(text_hash(""))),
        *at_least_zero("redactions"),
    ]


def triage_suite(names: Sequence[str], categories: Sequence[str]) -> list:
    """categories: what the day's triage model can predict."""
    return [
        columns(names),
        *not_null("ticket_id", "day", "category", "confidence", "route", "reason", "model_version", "input_tokens"),
        gxe.ExpectColumnValuesToBeUnique(column="ticket_id"),
        gxe.ExpectColumnValuesToBeInSet(column="route", value_set=list(routing.ROUTES)),
        gxe.ExpectColumnValuesToBeInSet(column="category", value_set=list(categories)),
        gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="cache_similarity", min_value=-1, max_value=1),
        *at_least_zero("input_tokens", "expected_usd"),
    ]


def responses_suite(names: Sequence[str]) -> list:
    limits = prompts.REPLY_SCHEMA["properties"]
    return [
        columns(names),
        *not_null("ticket_id", "day", "route", "status", "source", "prompt_version", "attempts", "usd"),
        gxe.ExpectColumnValuesToBeUnique(column="ticket_id"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=ANSWER_STATUSES),
        gxe.ExpectColumnValuesToBeInSet(column="source", value_set=ANSWER_SOURCES),
        gxe.ExpectColumnValuesToBeInSet(column="route", value_set=list(routing.ROUTES)),
        gxe.ExpectColumnValuesToBeInSet(column="sentiment", value_set=limits["sentiment"]["enum"]),
        gxe.ExpectColumnValueLengthsToBeBetween(column="summary", min_value=1, max_value=limits["summary"]["maxLength"]),
        gxe.ExpectColumnValueLengthsToBeBetween(column="draft_reply", min_value=1, max_value=limits["draft_reply"]["maxLength"]),
        *at_least_zero("attempts", "input_tokens", "output_tokens", "usd", "frontier_sync_usd"),
    ]


def digests_suite(names: Sequence[str]) -> list:
    return [
        columns(names),
        *not_null("day", "status", "tickets", "themes", "spikes", "markdown", "model", "prompt_version", "usd"),
        gxe.ExpectColumnValuesToBeUnique(column="day"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=ANSWER_STATUSES),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="headline", min_value=1, max_value=prompts.DIGEST_SCHEMA["properties"]["headline"]["maxLength"]),
        gxe.ExpectColumnValueLengthsToBeBetween(column="markdown", min_value=1),
        *at_least_zero("tickets", "usd"),
    ]


@cache
def batch_definition():
    # An ephemeral context keeps nothing on disk: the suites live in code, results go to Dagster and DuckDB.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context.data_sources.add_pandas("nightshift").add_dataframe_asset("day").add_batch_definition_whole_dataframe("rows")


def validate(name: str, expectations: list, frame: pd.DataFrame) -> Validation:
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    result = batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    failures = []
    for r in result.results:
        if r.success:
            continue
        found = r.result or {}
        examples = found.get("partial_unexpected_list", found.get("observed_value", ""))
        failures.append({
            "expectation": r.expectation_config.type,
            "column": r.expectation_config.kwargs.get("column", ""),
            "unexpected": found.get("unexpected_count", ""),
            "examples": ", ".join(map(str, examples[:5])) if isinstance(examples, list) else str(examples),
        })
    stats = result.statistics
    return Validation(bool(result.success), int(stats["evaluated_expectations"]),
                      round(float(stats["success_percent"] or 100.0) / 100, 4), failures)
