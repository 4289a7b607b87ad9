"""No personal data in what left the machine (the day's requests) or in the answers that would be reused.

Two detectors look at every text: the redaction scanner (the same detectors that redacted the tickets) and an
independent one (``nightshift.safety.leaks``: checksums, ``phonenumbers``, ``schwifty`` and ``detect-secrets``),
so that what redaction cannot see still fails the check. Either one failing fails it.
"""

from collections import Counter
from collections.abc import Mapping

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.ingest.redaction import redact, scan
from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.safety import leaks


def missed_by_redaction(texts: Mapping[str, str], found: Mapping[str, list[leaks.Finding]]) -> dict[str, list[leaks.Finding]]:
    """The independent findings that redaction leaves in place: the value is still there after ``redact`` of its paragraph.

    Only paragraphs with a finding are redacted, each distinct one once.
    """
    redacted: dict[str, str] = {}
    missed: dict[str, list[leaks.Finding]] = {}
    for key, findings in found.items():
        text, out = texts[key], []
        for f in findings:
            for at, paragraph in leaks.paragraphs(text):
                if at <= f.start < at + len(paragraph):
                    if paragraph not in redacted:
                        redacted[paragraph] = redact(paragraph).text
                    if text[f.start:f.end] in redacted[paragraph]:
                        out.append(f)
                    break
        if out:
            missed[key] = out
    return missed


def pii_figures(texts: Mapping[str, str], noun: str) -> tuple[bool, dict]:
    """(passed, metadata) for ``texts`` (id → text); fails on a detection of either the redaction scanner or the independent one.

    Raw values never reach the metadata: examples are ids, or ids with masked values.
    """
    found = scan(texts)
    independent = leaks.scan_all(texts)
    by_redaction = {key for key, counts in found.items() if counts}
    by_independent = {key for key, fs in independent.items() if fs}
    leaking = sorted(by_redaction | by_independent)
    kinds = sum(found.values(), Counter())
    own_kinds = Counter(f.kind for fs in independent.values() for f in fs)
    missed = missed_by_redaction(texts, independent)
    missed_examples = [f"{key}: {f.kind} {f.value_masked}" for key in sorted(missed) for f in missed[key]]
    return not leaking, {
        noun: len(texts), "with_pii": len(leaking), **{f"found_{k.lower()}": n for k, n in sorted(kinds.items())},
        "examples": ", ".join(leaking[:5]) or "none",
        "redaction_findings": sum(kinds.values()), "redaction_with_pii": len(by_redaction),
        "independent_findings": sum(own_kinds.values()), "independent_with_pii": len(by_independent),
        **{f"independent_{k.lower()}": n for k, n in sorted(own_kinds.items())},
        "missed_by_redaction": sum(map(len, missed.values())), "missed_by_redaction_texts": len(missed),
        "missed_examples": "; ".join(missed_examples[:5]) or "none",
    }


def pii_verdict(
    context, warehouse: DuckDBWarehouse, texts: dict[str, str], noun: str, check: str | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """texts: id → text. Fails on any detection of the redactor's scanner or of the independent detector."""
    passed, figures = pii_figures(texts, noun)
    return conclude(context, warehouse, passed, figures, severity, check=check)


@dg.asset_check(asset="synthesis_batches",
                description="The day's requests, as sent to the provider, carry no personal data that the redactor's scanner or the "
                "independent detector (nightshift.safety.leaks) finds (emails, phones, cards, IBANs, national ids, IP and MAC "
                "addresses, secrets); missed_by_redaction counts what only the second one saw.")
@traced
def requests_carry_no_pii(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, prices: Prices) -> dg.AssetCheckResult:
    sent = BatchLedger(warehouse.db, None, prices.table()).sent_texts(partition_day(context))
    return pii_verdict(context, warehouse, sent, "requests")


# Evaluated by the responses gate (checks/gates.py).
# Not blocking: an answer that repeats its own customer's data is still given to that customer; the cache's admission
# rules keep each such answer from anyone else (cached_answers), so one cannot hold back the whole day's cache.
ANSWERS_PII = dg.AssetCheckSpec(
    "responses_carry_no_pii", asset="ticket_responses",
    description="No answer marked ok carries personal data, found by the redactor's scanner or the independent detector, in its "
                "summary or draft reply (warns: such answers reach their own customer only, never the answer cache).")


def responses_carry_no_pii(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    rows = warehouse.answers.ok(partition_day(context))
    return pii_verdict(context, warehouse, {r["ticket_id"]: f"{r['summary']}\n{r['draft_reply']}" for r in rows}, "answers",
                       ANSWERS_PII.name, dg.AssetCheckSeverity.WARN)
