"""Groundedness against its target: a warning when a route's answers stop citing the help centre they were given.

An answer that cites nothing, where passages were retrieved for it, rests on the model's memory instead of the
company's articles. This warns rather than blocks: the answers may still be right, and the judge's `supported` verdict
on the shadow sample (in daily_cost_and_quality) says whether the cited passages back what they claim.
"""

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.asset_check(asset="ticket_responses", description="Per route, the share of answers citing a current knowledge-base passage "
                "(of those that had passages to cite) is at least the grounded target.")
@traced
def answers_are_grounded(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, knowledge: KnowledgeBase
) -> dg.AssetCheckResult:
    shares = warehouse.answers.grounded(partition_day(context))
    metadata: dict = {"target": knowledge.grounded_target,
                      **{f"grounded_{route}": round(share, 4) for route, (share, _) in shares.items()},
                      **{f"answers_{route}": n for route, (_, n) in shares.items()}}
    below = [f"{route} {share:.2f} of {n}" for route, (share, n) in shares.items() if share < knowledge.grounded_target]
    metadata["below_target"] = ", ".join(below) or ("none" if shares else "nothing to measure: no knowledge base or no passages")
    return conclude(context, warehouse, not below, metadata, dg.AssetCheckSeverity.WARN)
