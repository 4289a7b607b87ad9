"""The semantic cache round trip in a temporary LanceDB."""

from datetime import date, datetime, timedelta

import numpy as np

from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.vector_store import LanceDBStore

NOW = datetime(2026, 11, 21, 3, 0)


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def entry(entry_id, vector, prompt="p1", model="m-small", age_days=1, category="cancel_order"):
    return {"entry_id": entry_id, "vector": unit(vector), "answer": f"answer {entry_id}", "category": category,
            "prompt_version": prompt, "model": model, "source_ticket_id": f"T-{entry_id}",
            "created_at": NOW - timedelta(days=age_days)}


def test_round_trip_and_what_never_hits(tmp_path, monkeypatch):
    # Two entries and one query compared at a time: the running best carries across blocks.
    monkeypatch.setattr("nightshift.resources.answer_cache.ENTRIES_AT_ONCE", 2)
    monkeypatch.setattr("nightshift.resources.answer_cache.QUERIES_AT_ONCE", 1)
    cache = AnswerCache(vectors=LanceDBStore(uri=str(tmp_path / "lancedb")), ttl_days=30)
    assert cache.lookup(np.stack([unit([1, 0, 0])]), "p1", ["m-small"], NOW) == [None]  # no table yet
    cache.add([
        entry("fresh", [1, 0.1, 0]),
        entry("old-prompt", [1, 0, 0], prompt="p0"),
        entry("other-model", [1, 0, 0], model="m-other"),
        entry("expired", [1, 0, 0], age_days=45),
        entry("far", [0, 0, 1], category="refund"),
    ], dim=3)
    (match, far) = cache.lookup(np.stack([unit([1, 0, 0]), unit([0, 0.1, 1])]), "p1", ["m-small", "m-frontier"], NOW)
    assert match.entry_id == "fresh" and match.source_ticket_id == "T-fresh"
    assert abs(match.similarity - float(unit([1, 0, 0]) @ unit([1, 0.1, 0]))) < 1e-5
    assert far.entry_id == "far" and far.category == "refund"
    assert cache.lookup(np.stack([unit([1, 0, 0])]), "p2", ["m-small"], NOW) == [None]  # a new prompt version
    assert cache.lookup(np.stack([unit([1, 0, 0])]), "p1", ["m-none"], NOW) == [None]


def test_expiry_deletes_only_the_entries_past_the_ttl(tmp_path):
    cache = AnswerCache(vectors=LanceDBStore(uri=str(tmp_path / "lancedb")), ttl_days=30)
    assert cache.expire(NOW) == 0  # no table yet
    cache.add([entry("young", [1, 0, 0], age_days=29), entry("old", [0, 1, 0], age_days=31)], dim=3)
    assert cache.expire(NOW) == 1 and set(cache.get(["young", "old"])) == {"young"}


def test_adding_the_same_entry_twice_keeps_one(tmp_path):
    store = LanceDBStore(uri=str(tmp_path / "lancedb"))
    cache = AnswerCache(vectors=store)
    cache.add([entry("a", [1, 0, 0])], dim=3)
    cache.add([entry("a", [1, 0, 0])], dim=3)
    assert store.table("answer_cache").count_rows() == 1


def test_a_day_looked_up_never_finds_its_own_or_later_answers(tmp_path):
    cache = AnswerCache(vectors=LanceDBStore(uri=str(tmp_path / "lancedb")), ttl_days=30)
    day = date(2026, 11, 20)
    cache.add([{**entry("yesterday", [1, 0, 0]), "source_day": day - timedelta(days=1)},
               {**entry("today", [1, 0.01, 0]), "source_day": day}], dim=3)
    query = np.stack([unit([1, 0.01, 0])])
    assert cache.lookup(query, "p1", ["m-small"], NOW)[0].entry_id == "today"  # no day: everything live
    assert cache.lookup(query, "p1", ["m-small"], NOW, before=day)[0].entry_id == "yesterday"  # a rerun of the day
    assert cache.lookup(query, "p1", ["m-small"], NOW, before=day - timedelta(days=1)) == [None]  # a backfill before both


def test_a_cache_written_before_entries_knew_their_day_keeps_them_as_older(tmp_path):
    store = LanceDBStore(uri=str(tmp_path / "lancedb"))
    cache = AnswerCache(vectors=store, ttl_days=30)
    cache.add([entry("old-style", [1, 0, 0])], dim=3)
    table = store.table("answer_cache")
    table.drop_columns(["source_day"])  # as an older nightshift wrote it
    cache.add([{**entry("new", [0, 1, 0]), "source_day": date(2026, 11, 20)}], dim=3)
    assert "source_day" in store.table("answer_cache").schema.names
    assert cache.lookup(np.stack([unit([1, 0, 0])]), "p1", ["m-small"], NOW, before=date(2026, 11, 20))[0].entry_id == "old-style"


def test_the_lookup_finds_what_lancedbs_own_exact_search_finds(tmp_path):
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, 16))
    vectors = [unit(centres[i % 40] + 0.3 * rng.standard_normal(16)) for i in range(3000)]
    cache = AnswerCache(vectors=LanceDBStore(uri=str(tmp_path / "lancedb")), ttl_days=30)
    cache.add([entry(f"e{i}", v, category=f"c{i % 40}") for i, v in enumerate(vectors)], dim=16)
    queries = np.stack([unit(centres[i % 40] + 0.4 * rng.standard_normal(16)) for i in range(300)])
    table = cache.vectors.table("answer_cache")
    for query, match in zip(queries, cache.lookup(queries, "p1", ["m-small"], NOW)):
        (own,) = table.search(query).distance_type("cosine").select(["entry_id"]).limit(1).to_list()
        assert match.entry_id == own["entry_id"] and abs(match.similarity - (1 - own["_distance"])) < 1e-5
        assert match.answer == f"answer {match.entry_id}" and match.category == f"c{int(match.entry_id[1:]) % 40}"
