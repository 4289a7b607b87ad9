"""The blocking checks of an asset evaluated in one op: what must pass before the day's work flows on.

One op per gated asset, not one per check, because Dagster 1.13 orders a step's blocking-check dependencies by output
name, which is `result` for every single check: with two or more on an asset the job's snapshot then differs between
processes, and the UI would take a run started by the CLI for another version of the job. A gate's outputs are named
after its checks, so the order is fixed. Each check's spec and logic stay in the module of its kind.
"""

from collections.abc import Iterator

import dagster as dg

from nightshift.checks.answers import SCHEMA, responses_match_schema
from nightshift.checks.budget import PROJECTED, day_projected_within_budget
from nightshift.checks.privacy import ANSWERS_PII, responses_carry_no_pii
from nightshift.checks.suites import RESPONSES_SUITE, TRIAGE_SUITE, responses_expectations, triage_expectations
from nightshift.orchestration.tracing import traced
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices, TriageModelStore
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.multi_asset_check(specs=[PROJECTED, TRIAGE_SUITE], name="ticket_triage_gate")
@traced
def triage_gate(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices, models: TriageModelStore
) -> Iterator[dg.AssetCheckResult]:
    """Before anything is sent: the day fits the budget, and its triage is well formed."""
    yield day_projected_within_budget(context, warehouse, llm, prices)
    yield triage_expectations(context, warehouse, models)


@dg.multi_asset_check(specs=[SCHEMA, ANSWERS_PII, RESPONSES_SUITE], name="ticket_responses_gate")
@traced
def responses_gate(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> Iterator[dg.AssetCheckResult]:
    """Before any answer is reused from the cache: every answer parses, carries no personal data, and the day's rows are
    well formed."""
    yield responses_match_schema(context, warehouse)
    yield responses_carry_no_pii(context, warehouse)
    yield responses_expectations(context, warehouse)
