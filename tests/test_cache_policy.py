import numpy as np

from nightshift.triage.cache_policy import DISABLED, ThresholdRow, calibrate, choose_threshold, nearest, threshold_table


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_nearest_excluding_self():
    v = unit([[1, 0], [0.9, 0.1], [0, 1]])
    index, sim = nearest(v, v, exclude_self=True)
    assert index.tolist() == [1, 0, 1]
    assert sim[0] < 1


def test_table_counts_hits_and_false_hits():
    sim = np.array([0.99, 0.95, 0.91, 0.85])
    same = np.array([True, True, False, True])
    rows = {r.threshold: r for r in threshold_table(sim, same, grid=(0.9, 0.95))}
    assert rows[0.9] == ThresholdRow(0.9, 0.75, 1 / 3, 3, 1)
    assert rows[0.95] == ThresholdRow(0.95, 0.5, 0.0, 2, 0)


def test_choice_is_the_lowest_threshold_safe_all_the_way_up():
    rows = [ThresholdRow(0.8, 0.9, 0.005, 90, 1), ThresholdRow(0.85, 0.8, 0.02, 80, 2),
            ThresholdRow(0.9, 0.5, 0.0, 50, 0), ThresholdRow(0.95, 0.2, 0.0, 20, 0)]
    assert choose_threshold(rows, 0.01).threshold == 0.9  # 0.8 looks safe but 0.85 above it is not


def test_no_safe_threshold_disables_the_cache():
    rows = [ThresholdRow(0.9, 0.5, 0.2, 50, 10)]
    assert choose_threshold(rows, 0.01).threshold == DISABLED


def test_calibrate_separates_two_tight_clusters():
    rng = np.random.default_rng(0)
    a = unit(np.array([1, 0, 0]) + rng.normal(0, 0.05, (20, 3)))
    b = unit(np.array([0, 1, 0]) + rng.normal(0, 0.05, (20, 3)))
    chosen, rows = calibrate(np.vstack([a, b]), ["a"] * 20 + ["b"] * 20)
    assert chosen.false_hit_rate == 0 and chosen.hit_rate > 0.5
