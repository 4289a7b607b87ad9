"""answer_quality: each sampled cheap answer judged against the frontier model's answer to the same ticket."""

from collections import Counter

import dagster as dg

from nightshift.assets.responses import ticket_responses
from nightshift.lib.markdown import markdown_table
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.requests import JUDGE, SHADOW
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.quality.judging import JUDGED, judge_requests_and_rows
from nightshift.quality.sampling import SHADOWED_ROUTES
from nightshift.resources.llm import PROVIDER_RETRY, LLMProvider, permanent_errors_fail_fast
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_responses],
    group_name="quality",
    kinds={"openai", "duckdb"},
    pool="llm_provider",
    retry_policy=PROVIDER_RETRY,
)
def answer_quality(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, llm: LLMProvider, prices: Prices) -> dg.MaterializeResult:
    """One row per sampled cheap answer in DuckDB `answer_quality`: the judge's verdict (same intent? acceptable to send?
    why) and the $ of the shadow and judge requests.

    Once a sample's two answers are in, its judge request goes out in a batch at batch price; the sensor then collects
    the day once more, and this asset writes the verdicts.
    """
    with permanent_errors_fail_fast():
        day = partition_day(context)
        table = prices.table()
        ledger = BatchLedger(warehouse.db, llm.client(), table)
        latest = ledger.latest(day)
        shadows = [row for row in latest.values() if row["kind"] == SHADOW]
        texts = {t["ticket_id"]: t["text_redacted"] for t in warehouse.triage.triaged(day)}
        requests, rows = judge_requests_and_rows(shadows, warehouse.answers.by_ticket(day), latest, ledger.spent(day), texts, table)
        # Every collection of the day runs this: a judge out of attempts is reported (unmeasured), never sent again.
        states = ledger.submit(day, ledger.plan(day, requests, (JUDGE,), llm.max_attempts))
        warehouse.quality.replace_day(day, [{**r, "day": day} for r in rows])

        status = Counter(r["status"] for r in rows)
        metadata: dict = {"samples": len(rows), **{f"samples_{name}": status.get(name, 0) for name in ("judged", "pending", "unmeasured")},
                          "judge_batches_submitted": len(states),
                          "shadow_usd": round(sum(r["shadow_usd"] for r in rows), 6), "judge_usd": round(sum(r["judge_usd"] for r in rows), 6)}
        for route in SHADOWED_ROUTES:
            judged = [r for r in rows if r["route"] == route and r["status"] == JUDGED]
            metadata[f"judged_{route}"] = len(judged)
            if judged:
                metadata[f"agreement_{route}_today"] = sum(r["agrees"] for r in judged) / len(judged)
        disagreed = [r for r in rows if r["status"] == JUDGED and not r["agrees"]]
        metadata["disagreements"] = dg.MetadataValue.md(markdown_table(
            ("ticket", "route", "model", "judge's reason"), [(r["ticket_id"], r["route"], r["model"], r["reason"]) for r in disagreed[:20]],
            "none"))
        context.log.info(f"{day}: {status.get(JUDGED, 0)} of {len(rows)} samples judged, {len(disagreed)} disagreed")
        return dg.MaterializeResult(metadata=metadata)
