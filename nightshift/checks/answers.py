"""What came back: answers that parse against their schema, and how many tickets still need a person."""

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.llm import prompts
from nightshift.llm.structured_output import parse_content
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.warehouse import DuckDBWarehouse

# Above this share of a day's tickets flagged for a person or left unanswered, the routing or the prompt needs a look.
NEEDS_HUMAN_MAX_SHARE = 0.25


# Evaluated by the responses gate (checks/gates.py).
SCHEMA = dg.AssetCheckSpec("responses_match_schema", asset="ticket_responses", blocking=True,
                           description="Every answer marked ok parses against the reply schema; otherwise nothing enters the answer cache.")


def responses_match_schema(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    rows = warehouse.answers.ok(partition_day(context))
    invalid = [(r["ticket_id"], error) for r in rows for _, error in [parse_content(r["response"], prompts.REPLY_SCHEMA)] if error]
    return conclude(context, warehouse, not invalid, {
        "answers": len(rows), "invalid": len(invalid),
        "valid_share": round(1 - len(invalid) / len(rows), 4) if rows else 1.0,
        "examples": "; ".join(f"{tid}: {error}" for tid, error in invalid[:5]) or "none",
    }, check=SCHEMA.name)


@dg.asset_check(asset="ticket_responses", description="Share of the day's tickets a person must handle: flagged needs_human, or unanswered.")
@traced
def needs_human_share(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    row = warehouse.answers.needing_people(partition_day(context))
    share = (row["flagged"] + row["failed"]) / row["tickets"] if row["tickets"] else 0.0
    return conclude(context, warehouse, share <= NEEDS_HUMAN_MAX_SHARE, {
        "tickets": row["tickets"], "needs_human": row["flagged"], "unanswered": row["failed"],
        "share": round(share, 4), "max_share": NEEDS_HUMAN_MAX_SHARE,
    }, dg.AssetCheckSeverity.WARN)
