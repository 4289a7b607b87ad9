"""The day's $ against the budget: projected before anything is sent (blocking), and as spent after collection."""

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse


def spent(warehouse: DuckDBWarehouse, prices: Prices, day) -> float:
    return BatchLedger(warehouse.db, None, prices.table()).day_totals(day)["spent_usd"]


def budget_verdict(
    context, warehouse: DuckDBWarehouse, budget: float, spent: float, to_pay: float, check: str | None = None
) -> dg.AssetCheckResult:
    total = spent + to_pay
    return conclude(context, warehouse, total <= budget, {
        "budget_usd": budget, "spent_usd": round(spent, 6), "still_to_pay_usd": round(to_pay, 6),
        "projected_usd": round(total, 6), "budget_used": round(total / budget, 4) if budget else 0.0,
    }, check=check)


# Evaluated by the triage gate (checks/gates.py).
PROJECTED = dg.AssetCheckSpec("day_projected_within_budget", asset="ticket_triage", blocking=True,
                              description="The day's $ so far plus the triage estimate of what is left stays under the budget; "
                              "if not, synthesis_batches submits nothing.")


def day_projected_within_budget(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices
) -> dg.AssetCheckResult:
    day = partition_day(context)
    to_pay = warehouse.triage.still_to_pay(day)
    return budget_verdict(context, warehouse, llm.daily_budget_usd, spent(warehouse, prices, day), to_pay, PROJECTED.name)


@dg.asset_check(asset="ticket_responses", description="What the day's requests cost, from the usage returned, stays under the budget.")
@traced
def day_spent_within_budget(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices
) -> dg.AssetCheckResult:
    day = partition_day(context)
    return budget_verdict(context, warehouse, llm.daily_budget_usd, spent(warehouse, prices, day), 0.0)
