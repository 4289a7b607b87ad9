"""Answers to a labelled CSV with reference replies, routed as a night would route them and scored per route.

The triage model is trained on 80% of the rows (stratified); up to ``rows`` of the rest are answered in order, each by
its route: the small or the frontier model through the configured responder (synchronously: this measures quality, not
price), or, for a cache route, the answer given earlier in this run to the nearest same-category ticket, as the
nightly cache would serve it. Each answer is scored against the row's label and reference reply: intent agreement
(the answer's category is the label), the embedding similarity of its draft reply to the reference, and, with a
judge, the judge's verdict against the reference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from nightshift.ingest.encoders import Embedder
from nightshift.lib.stats import wilson
from nightshift.lib.tokens import count_tokens
from nightshift.llm import prompts, structured_output
from nightshift.llm.engine import Responder
from nightshift.llm.pricing import PriceTable
from nightshift.triage.cache_policy import calibrate, nearest
from nightshift.triage.classifier import TextClassifier, split
from nightshift.triage.evaluation import Labelled, Say
from nightshift.triage.routing import CACHE, RoutingConfig, Signals, question_count, route

Ask = Callable[[dict, dict], tuple[dict | None, str | None]]


def asker(responder: Responder) -> Ask:
    """One chat request and its parsed answer; an unusable answer is asked once more, saying what was wrong."""
    def ask(body: dict, schema: dict) -> tuple[dict | None, str | None]:
        sent, problem = body, None
        for _ in range(2):
            status, reply = responder(sent)
            if status != 200:
                return None, f"HTTP {status}: {(reply.get('error') or {}).get('message', 'no detail')}"
            answer, problem = structured_output.parse(reply, schema)
            if answer is not None:
                return answer, None
            sent = prompts.with_retry_note(body, problem or "")
        return None, problem
    return ask


def same(a: str | None, b: str) -> bool:
    return (a or "").strip().lower() == b.strip().lower()


def eval_answers(data: Labelled, embedder: Embedder, responder: Responder, prices: PriceTable, say: Say,
                 rows: int = 200, seed: int = 0, judge: bool = False) -> dict:
    if data.references is None:
        raise ValueError("no reference replies: map one with reference=COLUMN")
    train_idx, test_idx = split(len(data.labels), data.labels, seed=seed)
    test_idx = np.random.default_rng(seed).permutation(test_idx)[:rows]
    train_texts, train_labels = [data.texts[i] for i in train_idx], [data.labels[i] for i in train_idx]
    train_v = embedder.embed(train_texts)
    model = TextClassifier().fit(train_texts, train_v, train_labels)
    threshold, _ = calibrate(train_v, train_labels)
    config = RoutingConfig(cache_threshold=threshold.threshold)
    texts = [data.texts[i] for i in test_idx]
    vectors = embedder.embed(texts)
    predicted = model.predict(texts, vectors)
    _, known = nearest(vectors, train_v)
    say(f"trained on {len(train_idx)} rows; answering {len(texts)} held-out rows in order (cache threshold {threshold.threshold:.2f})")

    ask = asker(responder)
    cached: list[tuple[int, dict]] = []  # (row, answer) of model answers so far: the run's own cache
    scored = []
    for k, text in enumerate(texts):
        category = predicted.labels[k]
        hit = None
        if cached:
            index, sim = nearest(vectors[k:k + 1], vectors[[r for r, _ in cached]])
            hit = (cached[int(index[0])], float(sim[0]))
        decision = route(Signals(questions=question_count(text), category=category,
                                 confidence=float(predicted.confidence[k]), priority=None, tokens=count_tokens(text),
                                 nearest_known=float(known[k]), cache_similarity=hit[1] if hit else None,
                                 cache_category=predicted.labels[hit[0][0]] if hit else None), config)
        answer: dict | None
        if decision.route == CACHE and hit:
            answer, error = hit[0][1], None
        else:
            answer, error = ask(prompts.reply_request(prices.routes[decision.route], text, category), prompts.REPLY_SCHEMA)
            if answer:
                cached.append((k, answer))
        label, reference = data.labels[test_idx[k]], data.references[test_idx[k]]
        row = {"route": decision.route, "answered": answer is not None, "error": error,
               "agrees": bool(answer) and same(answer.get("category") if answer else None, label),
               "reply": (answer or {}).get("draft_reply", ""), "reference": reference, "verdict": None}
        if answer and judge:
            verdict, _ = ask(prompts.judge_request(prices.frontier, text, answer, {"category": label, "draft_reply": reference}),
                             prompts.JUDGE_SCHEMA)
            row["verdict"] = bool(verdict["same_intent"] and verdict["acceptable"]) if verdict else None
        scored.append(row)

    answered = [r for r in scored if r["answered"]]
    if answered:
        a = embedder.embed([r["reply"] for r in answered])
        b = embedder.embed([r["reference"] for r in answered])
        for r, s in zip(answered, (a * b).sum(axis=1)):
            r["similarity"] = float(s)
    return summarize(scored, say)


def summarize(scored: list[dict], say: Say) -> dict:
    """Answers, intent agreement (with its 95% interval), mean similarity and the judge's agreement, overall and per route."""
    def figures(rows: list[dict]) -> dict:
        answered = [r for r in rows if r["answered"]]
        agreement = wilson(sum(r["agrees"] for r in answered), len(answered))
        verdicts = [r["verdict"] for r in answered if r["verdict"] is not None]
        return {"answers": len(answered), "unanswered": len(rows) - len(answered),
                "agreement": round(agreement.rate, 4) if agreement.rate is not None else None,
                "agreement_low": round(agreement.low, 4), "agreement_high": round(agreement.high, 4),
                "similarity": round(float(np.mean([r["similarity"] for r in answered])), 4) if answered else None,
                "judge_agreement": round(sum(verdicts) / len(verdicts), 4) if verdicts else None, "judged": len(verdicts)}

    by_route: dict[str, list[dict]] = defaultdict(list)
    for r in scored:
        by_route[r["route"]].append(r)
    result = {**figures(scored), "routes": {name: figures(rows) for name, rows in sorted(by_route.items())}}
    say("route         answers  agreement [95%]          similarity  judge")
    for name, f in [*result["routes"].items(), ("all", result)]:
        interval = f"{f['agreement']:.3f} [{f['agreement_low']:.2f}, {f['agreement_high']:.2f}]" if f["answers"] else "-"
        judged = f"{f['judge_agreement']:.3f} of {f['judged']}" if f["judged"] else "-"
        say(f"{name:12}  {f['answers']:7}  {interval:23}  {f['similarity'] or 0:10.3f}  {judged}")
    return result
