"""unit_rows: the one normalisation shared by the word space, the store and the metrics."""
from __future__ import annotations

import numpy as np

from core.vectors import unit_rows


def test_each_row_gets_length_one_and_keeps_its_direction():
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, -2.0]]))
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, -1.0]], atol=1e-7)


def test_a_zero_vector_stays_zero():
    np.testing.assert_array_equal(unit_rows(np.zeros((2, 3))), np.zeros((2, 3)))


def test_a_single_vector_is_one_row():
    np.testing.assert_allclose(unit_rows([0.0, 5.0]), [0.0, 1.0])
