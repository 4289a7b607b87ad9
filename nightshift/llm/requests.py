"""What a night asks the models: one reply request per ticket routed to a model, and the day's digest.

Requests are plain data; where they go (a batch per model, or synchronously for realtime) and what
came back is recorded by the batch ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nightshift.llm import prompts
from nightshift.llm.batch_files import request_hash
from nightshift.llm.pricing import PriceTable
from nightshift.triage.routing import CACHE, HUMAN, REALTIME, SMALL

# shadow: a cheap route's ticket asked of the frontier model too; judge: the two answers compared. Both are the price
# of knowing the cheap answers' quality, and are counted apart from the replies.
# safety: the classifier's verdict on a flagged or sampled ticket, read when the night is collected.
REPLY, DIGEST, SHADOW, JUDGE, SAFETY = "reply", "digest", "shadow", "judge", "safety"
QUALITY_KINDS = (SHADOW, JUDGE, SAFETY)  # what knowing the answers' quality and safety costs, apart from the answers
SCHEMAS = {prompts.SUPPORT_REPLY: prompts.REPLY_SCHEMA, prompts.DAILY_DIGEST: prompts.DIGEST_SCHEMA,
           prompts.ANSWER_JUDGE: prompts.JUDGE_SCHEMA, prompts.SAFETY_CHECK: prompts.SAFETY_SCHEMA}


@dataclass(frozen=True)
class Request:
    custom_id: str
    kind: str
    ticket_id: str | None
    route: str
    model: str
    prompt_version: str
    body: dict
    problem: str | None = None  # what was wrong with the previous answer, told to the model on a retry
    rescued: bool = False  # its batch would have missed the deadline: asked synchronously instead

    @property
    def hash(self) -> str:
        return request_hash(self.body)

    @property
    def sent(self) -> dict:
        """The body as it goes out: with a note about the previous answer when there is one."""
        return prompts.with_retry_note(self.body, self.problem) if self.problem else self.body

    @property
    def mode(self) -> str:
        """Realtime requests, and those rescued at a deadline, are answered now at full price; everything else waits for a batch."""
        return "sync" if self.rescued or (self.route == REALTIME and self.kind == REPLY) else "batch"

    def as_row(self) -> dict:
        return {"custom_id": self.custom_id, "kind": self.kind, "ticket_id": self.ticket_id, "route": self.route,
                "model": self.model, "prompt_version": self.prompt_version, "request_hash": self.hash,
                "body": json.dumps(self.sent, ensure_ascii=False), "mode": self.mode, "rescued": self.rescued}


def reply_requests(triaged: list[dict], prices: PriceTable, passages: dict[str, list[dict]]) -> list[Request]:
    """Rows with ticket_id, route, category and text_redacted, each asked with its retrieved passages; cache-routed
    tickets need no request, and tickets held for a person get none."""
    requests = []
    for row in triaged:
        if row["route"] in (CACHE, HUMAN):
            continue
        model = prices.routes[row["route"]]
        requests.append(Request(row["ticket_id"], REPLY, row["ticket_id"], row["route"], model, prompts.SUPPORT_REPLY,
                                prompts.reply_request(model, row["text_redacted"], row["category"], passages.get(row["ticket_id"]))))
    return requests


def shadow_requests(sampled: list[dict], prices: PriceTable, passages: dict[str, list[dict]]) -> list[Request]:
    """The frontier model's answer to each sampled cheap-route ticket, in its batch; the route says what it shadows."""
    model = prices.frontier
    return [Request(f"{SHADOW}:{row['ticket_id']}", SHADOW, row["ticket_id"], row["route"], model, prompts.SUPPORT_REPLY,
                    prompts.reply_request(model, row["text_redacted"], row["category"], passages.get(row["ticket_id"])))
            for row in sampled]


def safety_requests(screened: list[dict], prices: PriceTable) -> list[Request]:
    """The small model's safety verdict on each flagged or sampled ticket (rows with ticket_id, route and text_redacted), in
    its batch: cheap, and read before any answer of the night is released."""
    model = prices.routes[SMALL]
    return [Request(f"{SAFETY}:{row['ticket_id']}", SAFETY, row["ticket_id"], row["route"], model, prompts.SAFETY_CHECK,
                    prompts.safety_request(model, row["text_redacted"])) for row in screened]


def judge_request(ticket_id: str, route: str, ticket_text: str, candidate: dict, reference: dict, cited: list[dict],
                  prices: PriceTable) -> Request:
    """The frontier model judges a cheap route's answer against its own (the shadow's), and against the passages it cites."""
    model = prices.frontier
    return Request(f"{JUDGE}:{ticket_id}", JUDGE, ticket_id, route, model, prompts.ANSWER_JUDGE,
                   prompts.judge_request(model, ticket_text, candidate, reference, cited))


def digest_request(day: str, clusters: str, spikes: str, prices: PriceTable) -> Request:
    # The digest reads across the whole day, so it goes to the frontier model, in its batch.
    model = prices.frontier
    return Request(f"digest:{day}", DIGEST, None, "frontier", model, prompts.DAILY_DIGEST,
                   prompts.digest_request(model, day, clusters, spikes))


def wrote(row: dict) -> str:
    """What wrote a request's answer, as the answer names it (the offline stand-in names itself, a provider its model's
    dated snapshot); the model asked for when it names none."""
    return row.get("answered_by") or row["model"]
