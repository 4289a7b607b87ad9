"""The loop closes, end to end through `nightshift batch-server`: the small model's batch answers 30% of its tickets
wrongly (valid JSON, wrong category, off-topic reply), the judge measures it, and the next night routes fewer tickets
to the small model than the same two nights do with a target of 0 (measured the same, never tightened)."""

import socket
from datetime import timedelta

import dagster as dg
import pytest

from nightshift.app.code_location import build_definitions
from nightshift.app.runner import run_days
from nightshift.ingest.samples import write_days
from nightshift.lib.home import Home
from nightshift.llm.engine import OFF_TOPIC_REPLY, WRONG_CATEGORY, Faults, LocalBatchEngine
from nightshift.llm.pricing import load_prices
from nightshift.llm.server import BatchServer
from nightshift.triage.routing import RoutingConfig
from nightshift.triage.tightening import QualityBounds, gate
from nightshift.warehouse.answer_quality import QualitySQL
from nightshift.warehouse.database import Warehouse
from tests.conftest import SAMPLE_START

WRONG_SHARE = 0.3
SMALL_MODEL = load_prices().routes["small_model"]
DAYS = [SAMPLE_START, SAMPLE_START + timedelta(days=1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nights(root, faults: Faults, monkeypatch, target: float = 0.90, days: list = DAYS, share: float = 1.0) -> Warehouse:
    """Sample days, ``share`` of the small-model and cache tickets shadowed and judged (all by default), against a batch
    server with ``faults``; called again with the same ``root``, later days go on in the same home."""
    home = Home(root / "home")
    write_days(home.landing, SAMPLE_START, (days[-1] - SAMPLE_START).days + 1)
    engine = LocalBatchEngine(root / "provider", faults=faults)
    with BatchServer(engine, port=free_port(), token="t").running() as server:
        for name, value in {"NIGHTSHIFT_LLM": "openai", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "t",
                            "NIGHTSHIFT_SHADOW_SHARE": str(share), "NIGHTSHIFT_SHADOW_MAX": "0", "NIGHTSHIFT_QUALITY_TARGET": str(target)}.items():
            monkeypatch.setenv(name, value)
        run_days(build_definitions(home, ""), dg.DagsterInstance.ephemeral(), "nightly_job", days, collect=True)
    return Warehouse(home.warehouse)


def small_model_routes(db: Warehouse, day) -> int:
    return db.rows("SELECT count(*) AS n FROM ticket_triage WHERE day = ? AND route = 'small_model'", [day])[0]["n"]


@pytest.mark.slow
def test_wrong_small_model_answers_are_measured_and_the_next_night_sends_it_fewer(tmp_path, monkeypatch):
    wrong = Faults(wrong_share=WRONG_SHARE, wrong_model=SMALL_MODEL)
    faulty = nights(tmp_path / "faulty", wrong, monkeypatch)
    untightened = nights(tmp_path / "untightened", wrong, monkeypatch, target=0.0)

    first = faulty.rows("SELECT * FROM daily_cost_and_quality WHERE day = ?", [DAYS[0]])[0]
    judged = faulty.rows("SELECT * FROM answer_quality WHERE day = ? AND route = 'small_model'", [DAYS[0]])
    assert first["sampled_small_model"] == len(judged) == first["route_small_model"] > 30  # the whole route, judged
    assert {r["status"] for r in judged} == {"judged"}
    assert first["agreement_small_model_low"] <= 1 - WRONG_SHARE <= first["agreement_small_model_high"]
    assert first["agreement_small_model_high"] < 0.90
    assert all("differ" in r["reason"] for r in judged if not r["agrees"])

    # The next night: the small model's minimum confidence went up and the categories it answered under target were
    # gated; each ticket moved says why, and fewer go there.
    # A few of a gated category's tickets go to the route anyway, as probes (judged before they are given).
    reasons = [r["reason"] for r in faulty.rows("SELECT reason FROM ticket_triage WHERE day = ? AND NOT gate_probe", [DAYS[1]])]
    probes = faulty.rows("SELECT reason FROM ticket_triage WHERE day = ? AND gate_probe", [DAYS[1]])
    moved = [r for r in reasons if "min_confidence raised" in r or "small_model gated for" in r]
    assert moved and all("agreed" in r and "target 0.90" in r for r in moved)
    assert probes and all("probe of the gate (small_model gated for" in p["reason"] for p in probes)
    assert small_model_routes(untightened, DAYS[1]) - small_model_routes(faulty, DAYS[1]) == len(moved)
    # The knob moves the few tickets near it; a gate moves its whole category, the sure tickets too.
    assert sum(r.startswith("small_model gated for") for r in moved) > sum("min_confidence raised" in r for r in moved)

    # Every rejected answer was kept out of the answer cache (or removed from it), so the next night's cache hits serve
    # only answers the judge accepted: the cache agrees in full.
    second = faulty.rows("SELECT * FROM daily_cost_and_quality WHERE day = ?", [DAYS[1]])[0]
    assert second["route_cache"] > 0 and second["sampled_cache"] == second["route_cache"] and second["agreement_cache"] == 1.0
    served = faulty.rows("SELECT response FROM ticket_responses WHERE route = 'cache'")
    assert served and not any(WRONG_CATEGORY in r["response"] for r in served)

    assert not untightened.rows("SELECT reason FROM ticket_triage WHERE reason LIKE '%raised%' OR reason LIKE '%gated%'")
    # The tickets a gate moved: left on the small model they agreed 7 of 10 (2026-12-07); moved, the frontier model
    # answered every one of them, with no wrong answer among them.
    moved_ids = [r["ticket_id"] for r in faulty.rows("SELECT ticket_id FROM ticket_triage WHERE day = ? AND reason LIKE '%gated for%' "
                                                     "AND NOT gate_probe", [DAYS[1]])]
    left = untightened.rows("SELECT avg(agrees::INT) AS rate, count(*) AS n FROM answer_quality WHERE day = ? AND status = 'judged' "
                            "AND list_contains(?, ticket_id)", [DAYS[1], moved_ids])[0]
    given = faulty.rows("SELECT route, response FROM ticket_responses WHERE day = ? AND list_contains(?, ticket_id)", [DAYS[1], moved_ids])
    assert left["n"] == len(given) > 5 and left["rate"] < 1.0
    assert {g["route"] for g in given} == {"frontier"} and not any(WRONG_CATEGORY in g["response"] for g in given)


@pytest.mark.slow
def test_a_gated_category_is_probed_and_comes_back_once_its_evidence_recovers(tmp_path, monkeypatch):
    """One bad night, then the small model is healthy again: the gated categories send it probes, judged before they are
    given, and the next night the gates their probes cleared are lifted and those categories are the route's again.
    (Fewer tickets moved is no test here: each sample day has another mix of categories.)"""
    days = [SAMPLE_START + timedelta(days=i) for i in range(3)]
    nights(tmp_path, Faults(wrong_share=WRONG_SHARE, wrong_model=SMALL_MODEL), monkeypatch, days=days[:1])
    db = nights(tmp_path, Faults(), monkeypatch, days=days[1:])

    def gated(day) -> set[str]:
        """The small model's categories gated that night, from the evidence the night's triage read."""
        measured = QualitySQL(db).agreement_by_category(day - timedelta(days=8), day - timedelta(days=1))
        return {category for route, category in gate(RoutingConfig(), measured, QualityBounds(), "").gated if route == "small_model"}

    probes = db.rows("SELECT t.ticket_id, t.route, t.reason, q.agrees, r.status FROM ticket_triage t JOIN ticket_responses r "
                     "USING (ticket_id, day) LEFT JOIN answer_quality q USING (ticket_id, day) WHERE t.day = ? AND t.gate_probe", [days[1]])
    assert gated(days[1]) and probes
    assert {r["why"] for r in db.rows("SELECT DISTINCT regexp_extract(reason, 'small_model gated for ([a-z_]+)', 1) AS why "
                                      "FROM ticket_triage WHERE day = ? AND reason LIKE '%small_model gated for%'", [days[1]])} <= gated(days[1])
    assert all(p["route"] == "small_model" and "probe of the gate" in p["reason"] for p in probes)
    assert all(p["agrees"] and p["status"] == "ok" for p in probes)  # judged, found right, then given
    assert gated(days[2]) < gated(days[1])
    # A category whose gate lifted is the small model's again: none of its tickets is moved for it.
    lifted = sorted(gated(days[1]) - gated(days[2]))
    back = db.rows("SELECT route, reason FROM ticket_triage WHERE day = ? AND list_contains(?, category)", [days[2], lifted])
    assert any(r["route"] == "small_model" for r in back) and not any("gated for" in r["reason"] for r in back)


@pytest.mark.slow
def test_replies_off_topic_under_the_right_category_are_measured_and_the_interval_holds_the_rate(tmp_path, monkeypatch):
    """The fault the category-reading judge missed: only the reply is replaced. Half the route judged, the rest estimated
    from the signals (the reply's relevance to its ticket sees this fault); both intervals hold the share of the route's
    answers that were not off-topic (0.80 of 137 on 2026-12-07: judged 0.75 [0.64, 0.84] of 69; estimated by PPI++
    0.79 [0.72, 0.86], worth 130 judged answers)."""
    db = nights(tmp_path, Faults(off_topic_share=WRONG_SHARE, wrong_model=SMALL_MODEL), monkeypatch, target=0.0, days=DAYS[:1], share=0.5)
    answers = db.rows("SELECT coalesce(replaced_response, response) AS given FROM ticket_responses WHERE route = 'small_model'")
    truth = 1 - sum(OFF_TOPIC_REPLY in a["given"] for a in answers) / len(answers)
    row = db.rows("SELECT * FROM daily_cost_and_quality")[0]
    assert len(answers) > 30 and 0.5 < truth < 0.9
    assert row["agreement_small_model_low"] <= truth <= row["agreement_small_model_high"]
    assert row["estimate_7d_small_model_low"] <= truth <= row["estimate_7d_small_model_high"]
    assert row["estimator_7d_small_model"] == "ppi++" and row["effective_n_7d_small_model"] > row["sampled_small_model"]
    judged_width = row["agreement_small_model_high"] - row["agreement_small_model_low"]
    assert row["estimate_7d_small_model_high"] - row["estimate_7d_small_model_low"] < judged_width
    # The judge rejected exactly the off-topic replies it saw, and each rejection says why.
    judged = db.rows("SELECT q.agrees, q.reason, coalesce(r.replaced_response, r.response) AS given FROM answer_quality q "
                     "JOIN ticket_responses r USING (ticket_id, day) WHERE q.route = 'small_model' AND q.status = 'judged'")
    assert judged and all(j["agrees"] == (OFF_TOPIC_REPLY not in j["given"]) for j in judged)
    assert all("replies" in j["reason"] and "<" in j["reason"] for j in judged if not j["agrees"])
