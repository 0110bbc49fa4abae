"""A compiled inference function for a Keras model, on whichever backend Keras runs.

`model.predict` per batch costs host-side copies and Python overhead: 5-8x slower on the GPU
(docs/ARCHITECTURE.md, performance rules). This compiles `model(x, training=False)` once per input
shape instead, and JAX compiles per shape, so callers that feed many batches (the indexer) pass `pad_to`: a short last
batch is padded to the full size and runs through the shape already compiled.

bfloat16 runs the convolutions (almost all of the arithmetic) in bfloat16 and keeps batch norm,
activations, pooling, the classifier and the heads in float32: measured on the sample photos, full
bfloat16 moved a ConSE embedding to cosine 0.997 of float32, this keeps every one above 0.9995.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import keras
import numpy as np

BFLOAT16_LAYERS = (keras.layers.Conv2D,)


def _layers(layer: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    yield layer
    for inner in getattr(layer, "layers", ()):
        yield from _layers(inner)


def _convolutions_in_bfloat16(model: keras.Model) -> None:
    for layer in _layers(model):
        if isinstance(layer, BFLOAT16_LAYERS):
            layer.dtype_policy = "mixed_bfloat16"  # weights stay float32; computed in bfloat16


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _compile(model: keras.Model, backend: str) -> Callable[[np.ndarray], list]:
    if backend == "tensorflow":
        import tensorflow as tf

        # one trace for every batch size: the batch dimension is left open
        spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
        graph_fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        return lambda batch: _as_list(graph_fn(tf.convert_to_tensor(batch)))
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        jitted = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
        return lambda batch: _as_list(jitted(trainable, non_trainable, batch))
    if backend == "torch":
        import torch

        def run(batch: np.ndarray) -> list:
            with torch.inference_mode():  # no autograd bookkeeping
                return _as_list(model(batch, training=False))

        return run
    return lambda batch: _as_list(model(batch, training=False))


class Inference:
    """f(batch, pad_to=None) -> list of float32 numpy outputs, compiled for the active backend."""

    def __init__(self, model: keras.Model, precision: str = "float32"):
        self.backend = keras.backend.backend()
        self.precision = precision
        self.compiles_per_shape = self.backend == "jax"
        self.batch_shapes: set[tuple[int, ...]] = set()  # the input shapes run (one compile each on JAX)
        if precision == "bfloat16":
            _convolutions_in_bfloat16(model)
        self._run = _compile(model, self.backend)

    def __call__(self, batch: np.ndarray, pad_to: int | None = None) -> list[np.ndarray]:
        count = len(batch)
        if pad_to is not None and self.compiles_per_shape and count < pad_to:
            batch = np.concatenate([batch, np.zeros((pad_to - count, *batch.shape[1:]), batch.dtype)])
        self.batch_shapes.add(tuple(batch.shape))
        return [keras.ops.convert_to_numpy(out)[:count].astype(np.float32, copy=False) for out in self._run(batch)]

