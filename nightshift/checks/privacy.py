"""No personal data in what left the machine (the day's requests) or in the answers that would be reused."""

from collections import Counter

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.ingest.redaction import scan
from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse


def pii_verdict(
    context, warehouse: DuckDBWarehouse, texts: dict[str, str], noun: str, check: str | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """texts: id → text. Fails on any detection the redactor would have made."""
    found = scan(texts)
    leaking = sorted(key for key, counts in found.items() if counts)
    kinds = sum(found.values(), Counter())
    return conclude(context, warehouse, not leaking, {
        noun: len(texts), "with_pii": len(leaking), **{f"found_{k.lower()}": n for k, n in sorted(kinds.items())},
        "examples": ", ".join(leaking[:5]) or "none",
    }, severity, check=check)


@dg.asset_check(asset="synthesis_batches",
                description="The day's requests, as sent to the provider, carry no personal data the redactor detects "
                "(emails, phones, cards, IBANs, national ids, IP and MAC addresses, secrets).")
@traced
def requests_carry_no_pii(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, prices: Prices) -> dg.AssetCheckResult:
    sent = BatchLedger(warehouse.db, None, prices.table()).sent_texts(partition_day(context))
    return pii_verdict(context, warehouse, sent, "requests")


# Evaluated by the responses gate (checks/gates.py).
# Not blocking: an answer that repeats its own customer's data is still given to that customer; the cache's admission
# rules keep each such answer from anyone else (cached_answers), so one cannot hold back the whole day's cache.
ANSWERS_PII = dg.AssetCheckSpec(
    "responses_carry_no_pii", asset="ticket_responses",
    description="No answer marked ok carries personal data in its summary or draft reply (warns: such answers reach their own "
                "customer only, never the answer cache).")


def responses_carry_no_pii(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    rows = warehouse.answers.ok(partition_day(context))
    return pii_verdict(context, warehouse, {r["ticket_id"]: f"{r['summary']}\n{r['draft_reply']}" for r in rows}, "answers",
                       ANSWERS_PII.name, dg.AssetCheckSeverity.WARN)
