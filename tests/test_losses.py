"""The training losses against values computed by hand."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from devsearch.training.losses import cosine_loss, hinge_rank_loss

# three unit label vectors
LABELS = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)


def _value(loss, y_true, y_pred) -> np.ndarray:
    return keras.ops.convert_to_numpy(loss(np.array(y_true), np.array(y_pred, dtype=np.float32)))


def test_hinge_rank_loss_sums_margin_violations_over_the_other_labels():
    """With the paper's margin, 0.1, by default."""
    # v = (0.8, 0.6), label 0: t.v = 0.8, 0.6, 0.96 -> max(0, 0.1-0.8+0.6) + max(0, 0.1-0.8+0.96) = 0 + 0.26
    # v = (0, 1), label 1: t.v = 0, 1, 0.8 -> max(0, 0.1-1+0) + max(0, 0.1-1+0.8) = 0
    values = _value(hinge_rank_loss(LABELS), [0, 1], [[0.8, 0.6], [0.0, 1.0]])
    assert values == pytest.approx([0.26, 0.0], abs=1e-6)


def test_hinge_rank_loss_margin_is_a_parameter():
    # label 1, v = (0, 1) with margin 0.5: max(0, 0.5-1+0) + max(0, 0.5-1+0.8) = 0.3
    assert _value(hinge_rank_loss(LABELS, margin=0.5), [1], [[0.0, 1.0]]) == pytest.approx([0.3], abs=1e-6)


def test_cosine_loss_is_one_minus_cosine_whatever_the_length():
    # cos((0.8, 0.6), (0.6, 0.8)) = 0.96
    assert _value(cosine_loss(LABELS), [2, 2], [[0.8, 0.6], [1.6, 1.2]]) == pytest.approx([0.04, 0.04], abs=1e-6)
