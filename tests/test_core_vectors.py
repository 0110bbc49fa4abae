"""unit_rows: the one normalisation shared by the word space, the store and the metrics."""
from __future__ import annotations

import numpy as np

from devsearch.core.vectors import top_k, unit_rows


def test_each_row_gets_length_one_and_keeps_its_direction():
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, -2.0]]))
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, -1.0]], atol=1e-7)


def test_a_zero_vector_stays_zero():
    np.testing.assert_array_equal(unit_rows(np.zeros((2, 3))), np.zeros((2, 3)))


def test_a_single_vector_is_one_row():
    np.testing.assert_allclose(unit_rows([0.0, 5.0]), [0.0, 1.0])


def test_top_k_gives_the_best_indices_first():
    assert top_k(np.array([0.1, 0.9, 0.5, 0.7]), 3).tolist() == [1, 3, 2]


def test_top_k_breaks_ties_by_index_and_caps_k():
    assert top_k(np.array([0.5, 0.9, 0.5, 0.5]), 10).tolist() == [1, 0, 2, 3]
    assert top_k(np.array([0.5, 0.9]), 0).tolist() == []


def test_top_k_of_a_million_scores_is_the_head_of_a_stable_sort():
    scores = np.random.default_rng(4).normal(size=1_000_000).astype(np.float32)
    for k in (1, 10, 2000):
        assert top_k(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


def test_top_k_breaks_ties_at_the_kth_place_by_index():
    scores = np.zeros(300_000, np.float32)
    scores[[5, 299_999]] = 1.0  # the 3rd to 10th best are all the zeros: the lowest indices win
    assert top_k(scores, 10).tolist() == [5, 299_999, 0, 1, 2, 3, 4, 6, 7, 8]


def test_top_k_of_clustered_scores_is_exact():
    """Many equal scores around the bound still give the exact answer."""
    scores = np.repeat(np.arange(1000, dtype=np.float32), 1000)[::-1].copy()
    assert top_k(scores, 10).tolist() == np.argsort(-scores, kind="stable")[:10].tolist()
