"""The two ways an image reaches the word space, as Keras layers: the trained DeViSE head and
training-free ConSE (its class vectors and a numpy twin of the projection: model/conse.py)."""
from __future__ import annotations

from collections.abc import Sequence

import keras

from devsearch.model.conse import CONSE_TOP_T


def build_devise_head(feature_shape: Sequence[int], dims: int, name: str = "devise_head") -> keras.Model:
    """The seed's head: Dropout 0.3, global average pooling, Dense 1024 relu, BatchNorm, Dense(dims), unit norm."""
    inputs = keras.Input(shape=tuple(feature_shape), name="feature_map")
    x = keras.layers.Dropout(0.3, name="dropout")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(1024, activation="relu", name="hidden")(x)
    x = keras.layers.BatchNormalization(name="hidden_bn")(x)
    x = keras.layers.Dense(dims, name="word_projection")(x)
    outputs = keras.layers.UnitNormalization(name="unit")(x)
    return keras.Model(inputs, outputs, name=name)


def conse_embedding(probabilities, label_vectors, top_t: int = CONSE_TOP_T):
    """ConSE (Norouzi et al. 2014): the top-T renormalised probabilities times the unit label vectors.

    Works on keras tensors, so it runs inside the compiled model on any backend. Labels without a
    vector have zero rows and are skipped by zeroing their probability before the top-T pick.
    """
    ops = keras.ops
    has_vector = ops.cast(ops.sum(ops.abs(label_vectors), axis=1) > 0, probabilities.dtype)
    probabilities = probabilities * has_vector
    top_p, top_i = ops.top_k(probabilities, k=top_t)
    weights = top_p / ops.maximum(ops.sum(top_p, axis=1, keepdims=True), 1e-12)
    picked = ops.take(label_vectors, top_i, axis=0)  # (N, T, D)
    mixed = ops.sum(picked * weights[..., None], axis=1)
    return mixed / ops.maximum(ops.norm(mixed, axis=1, keepdims=True), 1e-12)
