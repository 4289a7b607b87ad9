"""Pure parts of synthesis: requests, the offline responder, answer validation, the digest's material."""

import json
from collections import Counter

import numpy as np

from nightshift.lib.tokens import count_request, count_tokens
from nightshift.llm import prompts
from nightshift.llm.offline import MARKER, respond
from nightshift.llm.pricing import load_prices
from nightshift.llm.requests import digest_request, reply_requests
from nightshift.llm.structured_output import parse
from nightshift.reporting import themes

PRICES = load_prices()


def completion(content: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


def test_each_routed_ticket_gets_one_request_to_its_routes_model():
    triaged = [{"ticket_id": f"t{i}", "route": route, "category": "billing", "text_redacted": f"Ticket {i}"}
               for i, route in enumerate(["cache", "small_model", "frontier", "realtime"])]
    requests = reply_requests(triaged, PRICES, {})
    assert [(r.custom_id, r.model, r.mode) for r in requests] == [
        ("t1", "gpt-4.1-mini", "batch"), ("t2", "gpt-4.1", "batch"), ("t3", "gpt-4.1", "sync")]
    assert all(r.prompt_version == prompts.SUPPORT_REPLY for r in requests)
    again = reply_requests(triaged, PRICES, {})
    assert [r.hash for r in again] == [r.hash for r in requests]  # stable: reruns recognise answered requests
    changed = reply_requests([{**triaged[1], "text_redacted": "Ticket 1, edited"}], PRICES, {})
    assert changed[0].hash != requests[0].hash


def test_the_offline_responder_follows_the_schema_and_says_what_it_is():
    body = prompts.reply_request("gpt-4.1-mini", "Parcel late\nWhere is my parcel? It was due Monday.", "shipping")
    reply = respond(body)
    answer, problem = parse(reply, prompts.REPLY_SCHEMA)
    assert problem is None and answer["category"] == "shipping" and answer["needs_human"] is False
    assert answer["summary"].startswith(MARKER) and "Where is my parcel?" in answer["summary"]
    usage = reply["usage"]
    assert usage["prompt_tokens"] == count_request(body)
    assert usage["completion_tokens"] == count_tokens(reply["choices"][0]["message"]["content"])
    day = digest_request("2026-11-01", "- 10 tickets, mostly shipping", "", PRICES)
    assert day.model == "gpt-4.1" and parse(respond(day.body), prompts.DIGEST_SCHEMA)[1] is None


def test_answers_that_are_not_json_or_break_the_schema_are_rejected_with_the_reason():
    assert parse(completion("Sure! Here is the reply"), prompts.REPLY_SCHEMA)[1].startswith("not JSON")
    wrong = {"summary": "x", "sentiment": "furious", "category": "billing", "draft_reply": "y", "needs_human": False,
             "citations": [], "no_article": True}
    answer, problem = parse(completion(json.dumps(wrong)), prompts.REPLY_SCHEMA)
    assert answer is None and problem.startswith("schema: sentiment:")
    missing = {k: v for k, v in wrong.items() if k != "draft_reply"} | {"sentiment": "neutral"}
    assert "draft_reply" in parse(completion(json.dumps(missing)), prompts.REPLY_SCHEMA)[1]
    assert parse({"choices": []}, prompts.REPLY_SCHEMA)[1] == "no message content"


def test_themes_cluster_the_day_and_spikes_compare_with_the_trailing_week():
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16)
    vectors = np.concatenate([centres[i] + 0.01 * rng.standard_normal((n, 16)) for i, n in enumerate([20, 12, 6, 2])])  # k = 4 for 40 tickets
    categories = ["billing"] * 20 + ["shipping"] * 12 + ["login"] * 6 + ["other"] * 2
    ids = [f"t{i}" for i in range(len(categories))]
    found = themes.themes(vectors.astype(np.float32), ids, [f"text {i}" for i in ids], categories)
    assert [(t.size, t.category) for t in found][:3] == [(20, "billing"), (12, "shipping"), (6, "login")]
    # The same tickets as a sample of a day of 48 (k is still 4): each member stands for 1.2 tickets of the day.
    scaled = themes.themes(vectors.astype(np.float32), ids, [f"text {i}" for i in ids], categories, day_size=48)
    assert [(t.size, t.category) for t in scaled] == [(24, "billing"), (14, "shipping"), (7, "login"), (2, "other")]
    assert all(len(t.examples) <= themes.EXAMPLES for t in found)
    rising = themes.spikes(Counter(categories), Counter({"billing": 50, "shipping": 200, "login": 200, "other": 20}))
    assert [s.category for s in rising] == ["billing"]
    clusters, spikes = themes.describe(found, rising)
    assert "20 tickets, mostly billing" in clusters and "billing: 50% of today's tickets" in spikes
    assert "| 1 | 20 | billing |" in themes.markdown("2026-11-01", "A calm day", found, rising, None)
    # Each text once: a theme that repeats the headline (as the offline responder's does) adds nothing.
    written = {"themes": [{"title": "A calm day", "summary": "A calm day"}, {"title": "Refunds", "summary": "Refunds"},
                          {"title": "Logins", "summary": "Resets fail on mobile."}]}
    text = themes.markdown("2026-11-01", "A calm day", found, rising, written)
    assert text.count("A calm day") == 1 and "- **Refunds**\n" in text and "- **Logins**: Resets fail on mobile." in text
    assert themes.themes(np.zeros((0, 16), np.float32), [], [], []) == []
