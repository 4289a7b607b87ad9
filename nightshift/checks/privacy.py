"""No personal data in what left the machine (the day's requests) or in the answers that would be reused."""

import json
from collections import Counter
from datetime import date

import dagster as dg

from nightshift.assets.responses import ticket_responses
from nightshift.assets.synthesis import synthesis_batches
from nightshift.checks.results import conclude
from nightshift.redaction import redact
from nightshift.resources.warehouse import DuckDBWarehouse


def pii_verdict(context, warehouse: DuckDBWarehouse, texts: dict[str, str], noun: str) -> dg.AssetCheckResult:
    """texts: id → text. Fails on any detection the redactor would have made."""
    found = {key: redact(text).counts for key, text in texts.items()}
    leaking = sorted(key for key, counts in found.items() if counts)
    kinds = sum(found.values(), Counter())
    return conclude(context, warehouse, not leaking, {
        noun: len(texts), "with_pii": len(leaking), **{f"found_{k.lower()}": n for k, n in sorted(kinds.items())},
        "examples": ", ".join(leaking[:5]) or "none",
    })


def message_text(body: str) -> str:
    return "\n".join(str(m.get("content") or "") for m in json.loads(body).get("messages", []))


@dg.asset_check(asset=synthesis_batches, description="The day's requests, as sent to the provider, carry no emails, phones, cards or IBANs.")
def requests_carry_no_pii(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    rows = warehouse.query("SELECT custom_id, attempt, body FROM llm_requests WHERE day = ? AND superseded_at IS NULL",
                           [date.fromisoformat(context.partition_key)]).to_pylist()
    return pii_verdict(context, warehouse, {f"{r['custom_id']}#{r['attempt']}": message_text(r["body"]) for r in rows}, "requests")


@dg.asset_check(asset=ticket_responses, blocking=True,
                description="No answer marked ok carries personal data in its summary or draft reply; otherwise nothing enters the answer cache.")
def responses_carry_no_pii(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    rows = warehouse.query("SELECT ticket_id, summary, draft_reply FROM ticket_responses WHERE day = ? AND status = 'ok'",
                           [date.fromisoformat(context.partition_key)]).to_pylist()
    return pii_verdict(context, warehouse, {r["ticket_id"]: f"{r['summary']}\n{r['draft_reply']}" for r in rows}, "answers")
