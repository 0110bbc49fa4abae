"""A compiled inference function for a Keras model, on whichever backend Keras runs.

`model.predict` per batch costs host-side copies and Python overhead: 5-8x slower on the GPU
(docs/ARCHITECTURE.md, performance rules). This compiles `model(x, training=False)` once per input shape instead.
"""
from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


def compile_inference(model: keras.Model) -> Callable[[np.ndarray], list[np.ndarray]]:
    """Return f(batch) -> list of numpy outputs, compiled for the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # one trace for every batch size: the batch dimension is left open
        spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
        graph_fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        return lambda batch: [np.asarray(out) for out in _as_list(graph_fn(tf.convert_to_tensor(batch)))]
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        jitted = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
        return lambda batch: [np.asarray(out) for out in _as_list(jitted(trainable, non_trainable, batch))]
    return lambda batch: [keras.ops.convert_to_numpy(out) for out in _as_list(model(batch, training=False))]


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
