"""The judge's side of a night: which sampled cheap answers can be judged, and what each verdict says.

A sample is judged once both of its answers are in: the cheap one (from the cache or the small model, in
`ticket_responses`) and the frontier model's shadow answer to the same ticket. The judge request is built from the two
answers, so a rerun asks nothing new, and a changed answer asks again.
"""

from __future__ import annotations

import json

from nightshift.llm.pricing import PriceTable
from nightshift.llm.requests import JUDGE, SHADOW, Request, judge_request, wrote

PENDING, JUDGED, UNMEASURED = "pending", "judged", "unmeasured"


def agrees(verdict: dict) -> bool:
    """The judge's answer says the cheap answer may stand: the same intent as the frontier's, and acceptable to send."""
    return bool(verdict["same_intent"] and verdict["acceptable"])


def usd(spent: dict[str, dict], kind: str, ticket_id: str) -> float:
    return float((spent.get(f"{kind}:{ticket_id}") or {}).get("usd") or 0.0)


def judge_requests_and_rows(
    shadows: list[dict], answers: dict[str, dict], latest: dict[str, dict], spent: dict[str, dict], texts: dict[str, str],
    prices: PriceTable, passages: dict[str, dict] | None = None,
) -> tuple[list[Request], list[dict]]:
    """Judge requests for every sample whose answers are both in, and one `answer_quality` row per sample.

    shadows: the ledger's latest shadow requests; answers: ticket_responses rows by ticket; latest and spent: the
    ledger's per custom_id; texts: the redacted ticket texts; passages: the knowledge base's passages by chunk id, for
    the ones a candidate cites (None: no knowledge base, and `supported` stays empty).
    """
    requests, rows = [], []
    for shadow in shadows:
        tid = shadow["ticket_id"]
        cheap = answers.get(tid) or {}
        row = {"ticket_id": tid, "route": shadow["route"], "model": cheap.get("model"), "status": PENDING, "same_intent": None,
               "acceptable": None, "agrees": None, "supported": None, "reason": None, "judge_model": None,
               "shadow_usd": usd(spent, SHADOW, tid), "judge_usd": usd(spent, JUDGE, tid)}
        rows.append(row)
        # A probe's cheap answer is known (the cache entry's) while it waits, pending, for this verdict.
        if shadow["status"] == "submitted" or (cheap.get("status") == "pending" and not cheap.get("response")):
            row["reason"] = "waiting for the answers"
            continue
        if shadow["status"] != "ok" or cheap.get("status") not in ("ok", "pending"):
            failed = f"the frontier answer: {shadow['error']}" if shadow["status"] != "ok" else f"the cheap answer: {cheap.get('error')}"
            row.update(status=UNMEASURED, reason=f"nothing to compare, no usable {failed}")
            continue
        candidate = json.loads(cheap["response"])
        cited = [passages[c] for c in candidate.get("citations") or [] if c in passages] if passages is not None else []
        request = judge_request(tid, shadow["route"], texts.get(tid, ""), candidate, json.loads(shadow["answer"]), cited, prices)
        requests.append(request)
        verdict = latest.get(request.custom_id)
        if verdict is None or verdict["request_hash"] != request.hash or verdict["status"] == "submitted":
            row["reason"] = "waiting for the judge"
        elif verdict["status"] != "ok":
            row.update(status=UNMEASURED, reason=f"the judge gave no usable verdict: {verdict['error']}")
        else:
            said = json.loads(verdict["answer"])
            row.update(status=JUDGED, same_intent=said["same_intent"], acceptable=said["acceptable"],
                       agrees=agrees(said), reason=said["reason"], judge_model=wrote(verdict),
                       supported=said["supported"] if passages is not None else None)
    return requests, rows
