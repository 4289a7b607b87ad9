"""The day's $ against the budget: projected before anything is sent (blocking), and as spent after collection."""

from datetime import date

import dagster as dg

from nightshift.assets.responses import ticket_responses
from nightshift.assets.triage import ticket_triage
from nightshift.batch_ledger import BatchLedger
from nightshift.checks.results import conclude
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse

# Triage's estimate for each ticket not yet answered or in flight: what a submission now would add.
STILL_TO_PAY = (
    "SELECT coalesce(sum(expected_usd), 0) AS usd FROM ticket_triage t WHERE day = $1 AND NOT EXISTS ("
    "SELECT 1 FROM llm_requests r WHERE r.day = $1 AND r.ticket_id = t.ticket_id AND r.superseded_at IS NULL "
    "AND r.status IN ('ok', 'submitted'))"
)


def spent(warehouse: DuckDBWarehouse, prices: Prices, day: date) -> float:
    return BatchLedger(warehouse, None, prices.table()).day_totals(day)["spent_usd"]


def budget_verdict(context, warehouse: DuckDBWarehouse, budget: float, spent: float, to_pay: float) -> dg.AssetCheckResult:
    total = spent + to_pay
    return conclude(context, warehouse, total <= budget, {
        "budget_usd": budget, "spent_usd": round(spent, 6), "still_to_pay_usd": round(to_pay, 6),
        "projected_usd": round(total, 6), "budget_used": round(total / budget, 4) if budget else 0.0,
    })


@dg.asset_check(asset=ticket_triage, blocking=True,
                description="The day's $ so far plus the triage estimate of what is left stays under the budget; "
                "if not, synthesis_batches submits nothing.")
def day_projected_within_budget(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices
) -> dg.AssetCheckResult:
    day = date.fromisoformat(context.partition_key)
    to_pay = float(warehouse.query(STILL_TO_PAY, [day]).to_pylist()[0]["usd"])
    return budget_verdict(context, warehouse, llm.daily_budget_usd, spent(warehouse, prices, day), to_pay)


@dg.asset_check(asset=ticket_responses, description="What the day's requests cost, from the usage returned, stays under the budget.")
def day_spent_within_budget(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices
) -> dg.AssetCheckResult:
    day = date.fromisoformat(context.partition_key)
    return budget_verdict(context, warehouse, llm.daily_budget_usd, spent(warehouse, prices, day), 0.0)
