"""The offline judge reads what the customer reads: the replies (not only their categories) and the passages cited."""

import json

import pytest

from nightshift.llm import prompts
from nightshift.llm.engine import OFF_TOPIC_REPLY, Faults, LocalBatchEngine
from nightshift.llm.offline import REPLY_FLOOR, SUPPORT_FLOOR, contradictions, respond

TICKET = "I returned my jacket last week. When will I get my refund?"
REFUND = {"chunk_id": "kb-refund-1", "title": "When will I get my refund?",
          "text": "We refund a return within 3 working days of receiving it at our warehouse. Your bank then needs 5 to 10 "
                  "working days to show the money on your statement."}
RETURNS = {"chunk_id": "kb-returns-1", "title": "Our return policy",
           "text": "You can return most items within 30 days of delivery for a full refund, unused and in the original packaging. "
                   "Opened software, gift cards and personal care items cannot be returned."}
REFERENCE = ("We refund a return within 3 working days of receiving it at our warehouse; after that your bank needs 5 to 10 "
             "working days to show the money on your statement.")


def answer(reply: str, category: str = "refund_status", cited: tuple[str, ...] = ()) -> dict:
    return {"summary": "s", "sentiment": "neutral", "category": category, "draft_reply": reply, "needs_human": False,
            "citations": list(cited), "no_article": not cited}


def verdict(candidate: dict, reference: dict, cited: list[dict] | None = None, ticket: str = TICKET) -> dict:
    body = prompts.judge_request("gpt-4.1", ticket, candidate, reference, cited)
    said = json.loads(respond(body)["choices"][0]["message"]["content"])
    assert set(said) == set(prompts.JUDGE_SCHEMA["properties"]) and len(said["reason"]) <= 300
    return said


def test_an_off_topic_reply_under_the_right_category_is_not_agreement():
    said = verdict(answer(OFF_TOPIC_REPLY, cited=("kb-refund-1",)), answer(REFERENCE), [REFUND])
    assert said["same_intent"] is False and said["acceptable"] is False and said["supported"] is False
    assert "match" in said["reason"] and f"< {REPLY_FLOOR:.2f}" in said["reason"]  # the similarity and the floor are shown
    assert f"< {SUPPORT_FLOOR:.2f}" in said["reason"]


def test_a_paraphrase_of_the_reference_agrees_and_is_supported():
    paraphrase = ("Once your return reaches our warehouse we refund it within 3 working days, and your bank takes 5 to 10 "
                  "working days before the money shows on your statement.")
    said = verdict(answer(paraphrase, cited=("kb-refund-1",)), answer(REFERENCE), [REFUND])
    assert said["same_intent"] is True and said["acceptable"] is True and said["supported"] is True, said["reason"]
    assert f">= {REPLY_FLOOR:.2f}" in said["reason"] and "no contradiction" in said["reason"]


def test_a_reply_changing_the_cited_numbers_or_negating_the_passage_is_unsupported():
    changed = REFERENCE.replace("3 working days", "24 hours").replace("5 to 10", "2 to 3")
    said = verdict(answer(changed, cited=("kb-refund-1",)), answer(REFERENCE), [REFUND])
    assert said["supported"] is False and "contradicts" in said["reason"] and "2 day" in said["reason"]
    negated = "Opened software, gift cards and personal care items can be returned within 30 days of delivery."
    said = verdict(answer(negated, "return_policy", ("kb-returns-1",)), answer(negated, "return_policy"), [RETURNS])
    assert said["acceptable"] is True and said["supported"] is False and "negates" in said["reason"]


def test_the_customers_own_numbers_are_not_contradictions_and_citing_nothing_fails_only_a_checkable_claim():
    assert contradictions("You returned it 2 days ago; we refund within 3 working days.", REFUND["text"], "I sent it back 2 days ago") == []
    general = verdict(answer("We are sorry for the wait and are looking into your refund."), answer(REFERENCE), [])
    claim = verdict(answer("Your refund will reach you within 2 days."), answer(REFERENCE), [])
    assert general["supported"] is True and claim["supported"] is False and "unbacked 2 day" in claim["reason"]


def test_the_offline_responders_own_answers_still_agree():
    request = prompts.reply_request("m", TICKET, "refund_status", [REFUND])
    reply = json.loads(respond(request)["choices"][0]["message"]["content"])
    said = verdict(reply, reply, [REFUND])
    assert said["same_intent"] is True and said["acceptable"] is True


def test_the_contradict_fault_keeps_the_reply_on_topic_and_the_judge_finds_it(tmp_path):
    request = prompts.reply_request("small", TICKET, "refund_status", [REFUND])
    clean = json.loads(LocalBatchEngine(tmp_path / "a").complete(request)[1]["choices"][0]["message"]["content"])
    faulted = LocalBatchEngine(tmp_path / "b", faults=Faults(contradict_share=1.0))
    first, again = (json.loads(faulted.complete(request)[1]["choices"][0]["message"]["content"]) for _ in range(2))
    assert first == again and first["citations"] == ["kb-refund-1"] and first["category"] == clean["category"]
    assert first["draft_reply"].startswith(clean["draft_reply"]) and "7 working days" in first["draft_reply"]
    said = verdict(first, clean, [REFUND])
    assert said["acceptable"] is True and said["supported"] is False, said["reason"]
    assert verdict(clean, clean, [REFUND])["reason"].count("contradicts") == 0
    unfaulted = LocalBatchEngine(tmp_path / "c", faults=Faults(contradict_share=0.0)).complete(request)[1]
    assert json.loads(unfaulted["choices"][0]["message"]["content"]) == clean


# Cases the rules were NOT designed against, written before running them; what they showed is recorded on each.
@pytest.mark.xfail(strict=True, reason="measured: replies 0.15 < 0.42. MiniLM-L6 is an English model, so a faithful German "
                                      "translation reads as off-topic (and 0.15 < 0.27 against the passage): the offline judge "
                                      "refuses replies in another language than the reference's")
def test_undesigned_the_reference_translated_into_german_agrees():
    german = ("Wir erstatten eine Rücksendung innerhalb von 3 Werktagen nach Eingang in unserem Lager; danach braucht Ihre "
              "Bank 5 bis 10 Werktage, bis das Geld auf Ihrem Kontoauszug erscheint.")
    said = verdict(answer(german, cited=("kb-refund-1",)), answer(REFERENCE), [REFUND])
    assert said["acceptable"] is True, said["reason"]


@pytest.mark.xfail(strict=True, reason="measured: reply-passage 0.84 >= 0.27, no contradiction found. The rules see only "
                                      "numbers tied to a unit and negation words; 'immediately' against '5 to 10 working days' "
                                      "passes as supported")
def test_undesigned_a_contradiction_without_a_number_or_negation_is_unsupported():
    # "immediately" against "5 to 10 working days": a contradiction by an adverb, not a number and not a negation word.
    wrong = "We refund a return as soon as it reaches our warehouse, and the money shows on your statement immediately."
    said = verdict(answer(wrong, cited=("kb-refund-1",)), answer(REFERENCE), [REFUND])
    assert said["supported"] is False, said["reason"]
