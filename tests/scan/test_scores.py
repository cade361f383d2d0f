import numpy as np
import pytest

from scget._scan.scores import score_table


def dense_scores(where, values, n_rows: int, n_clusters: int, dtype=np.float64) -> np.ndarray:
    """The table as numpy writes it: zeros, and the scores at their flat indices."""
    table = np.zeros(n_rows * n_clusters, dtype=dtype)
    table[where] = values
    return table.reshape(n_rows, n_clusters)


def numpy_route(raw: np.ndarray, max_score: np.ndarray) -> np.ndarray:
    """The normalisation as numpy writes it: each score over its maximum (1 where 0), clipped."""
    return np.clip(raw / np.where(max_score > 0, max_score, 1.0), 0.0, 1.0)


@pytest.mark.parametrize("normalize", [True, False])
def test_score_table_equals_the_numpy_route_bit_for_bit(normalize):
    rng = np.random.default_rng(0)
    n_rows, n_clusters = 7, 5
    where = np.sort(rng.choice(n_rows * n_clusters, 20, replace=False))
    raw = rng.uniform(4.0, 30.0, 20)
    raw[where % n_clusters == 3] = 0.0  # a cluster whose only "hits" are 0 keeps its scale 1
    columns = where % n_clusters
    max_score = np.zeros(n_clusters)
    np.maximum.at(max_score, columns, raw)
    values = numpy_route(raw, max_score[columns]) if normalize else raw
    expected = dense_scores(where, values, n_rows, n_clusters, dtype=np.float32)
    # split into parts as the workers return them
    parts = [
        (where[:8].copy(), raw[:8].copy()),
        (where[8:].copy(), raw[8:].copy()),
        (where[:0], raw[:0]),
    ]
    table, maxima = score_table(parts, n_rows, n_clusters, normalize)
    assert table.dtype == np.float32 and table.shape == (n_rows, n_clusters)
    assert table.tobytes() == expected.tobytes()
    assert maxima.tobytes() == max_score.tobytes()


def test_score_table_by_hand():
    # rows 0 and 1, 2 clusters: cluster 0 has 2.0 and 4.0, cluster 1 has 3.0
    parts = [(np.array([0, 1]), np.array([2.0, 3.0])), (np.array([2]), np.array([4.0]))]
    table, maxima = score_table(parts, 2, 2, normalize=True)
    np.testing.assert_array_equal(table, [[0.5, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(maxima, [4.0, 3.0])
    table, _ = score_table(parts, 2, 2, normalize=False)
    np.testing.assert_array_equal(table, [[2.0, 3.0], [4.0, 0.0]])
    empty, maxima = score_table([], 3, 2, normalize=True)
    assert empty.shape == (3, 2) and not empty.any() and not maxima.any()


def test_score_table_on_recorded_maxima_equals_the_numpy_route_in_float64():
    rng = np.random.default_rng(1)
    where = np.sort(rng.choice(24, 10, replace=False))
    raw = rng.uniform(4.0, 30.0, 10)
    recorded = np.array([12.0, 0.0, 25.0, 8.0])  # a new sequence may beat the recorded maximum
    table, maxima = score_table([(where, raw)], 6, 4, True, max_score=recorded, dtype=np.float64)
    expected = dense_scores(where, numpy_route(raw, recorded[where % 4]), 6, 4)
    assert table.dtype == np.float64 and table.tobytes() == expected.tobytes()
    assert maxima is recorded
    assert table.max() == 1.0  # clipped where the recorded maximum is beaten
