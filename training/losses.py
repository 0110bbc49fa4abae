"""The two DeViSE training losses, as Keras losses over label indices.

Both take y_true as the index of each example's label among the training labels and y_pred as the
head's output (N, dims); `label_vectors` (L, dims) holds the unit word vectors t_j of the training
labels. They are written with keras.ops, so they run on any Keras backend.
"""
from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

HINGE_MARGIN = 0.1

Loss = Callable[[object, object], object]


def _targets(label_vectors: np.ndarray, y_true) -> tuple[object, object]:
    """(the training label matrix as a tensor, each example's label index as int32 (N,))."""
    ops = keras.ops
    matrix = ops.convert_to_tensor(np.asarray(label_vectors, dtype=np.float32))
    return matrix, ops.reshape(ops.cast(y_true, "int32"), (-1,))


def cosine_loss(label_vectors: np.ndarray) -> Loss:
    """The seed's loss: mean of 1 - cos(v, t_label)."""

    def loss(y_true, y_pred):
        ops = keras.ops
        matrix, labels = _targets(label_vectors, y_true)
        target = ops.take(matrix, labels, axis=0)
        pred = y_pred / ops.maximum(ops.norm(y_pred, axis=1, keepdims=True), 1e-12)
        return 1.0 - ops.sum(pred * target, axis=1)

    return loss


def hinge_rank_loss(label_vectors: np.ndarray, margin: float = HINGE_MARGIN) -> Loss:
    """The paper's rank loss: sum over j != label of max(0, margin - t_label.v + t_j.v).

    Negatives: every other training label, summed exactly (not sampled, and not the paper's
    "stop at the first violating negative in random order", which was its way to afford 1,000
    classes per example on 2013 hardware). With a few thousand labels the full (N, L) score matrix
    is one small matrix product per batch, so the exact sum costs nothing and has no sampling noise.
    """

    def loss(y_true, y_pred):
        ops = keras.ops
        matrix, labels = _targets(label_vectors, y_true)
        scores = ops.matmul(y_pred, ops.transpose(matrix))  # (N, L): t_j . v
        is_label = ops.one_hot(labels, ops.shape(matrix)[0])
        true_score = ops.sum(scores * is_label, axis=1, keepdims=True)
        violations = ops.relu(margin - true_score + scores) * (1.0 - is_label)
        return ops.sum(violations, axis=1)

    return loss


LOSSES = {"cosine": cosine_loss, "hinge": hinge_rank_loss}
