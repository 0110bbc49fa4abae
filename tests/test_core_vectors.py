"""unit_rows: the one normalisation shared by the word space, the store and the metrics."""
from __future__ import annotations

import numpy as np

from core.vectors import top_k, unit_rows


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
