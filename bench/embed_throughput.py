"""How fast the backbones turn uint8 batches into features, and what the weight cache saves at start-up.

Prints one table measured in this run: EfficientNet-Lite0 (real weights) and ResNet-50 (random
weights: throughput does not depend on them) through a compiled inference function (tf.function on
the TensorFlow backend, jax.jit on JAX; not model.predict), on random uint8 batches after warm-up;
and EfficientNet-Lite0's first start (convert the .pth into a fresh cache) against a cached start.

    python bench/embed_throughput.py [--batch 32] [--batches 8]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def _compiled(model):
    """model(x, training=False) compiled once for the active backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda x: model(x, training=False), jit_compile=False)
    if backend == "jax":
        import jax

        return jax.jit(lambda x: model(x, training=False))
    return lambda x: model(x, training=False)


def _images_per_second(model, batch: int, batches: int) -> float:
    infer = _compiled(model)
    rng = np.random.default_rng(0)
    data = [rng.integers(0, 256, (batch, 224, 224, 3), dtype=np.uint8) for _ in range(batches)]
    for x in data[:2]:  # trace/compile, then one more so caches are warm
        np.asarray(infer(x)[1])
    start = time.perf_counter()
    for x in data:
        np.asarray(infer(x)[1])  # bring the result to the host, as the indexer does
    return batch * batches / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=8, help="timed batches per model, after warm-up")
    args = parser.parse_args()

    start = time.perf_counter()
    import keras

    from devsearch.model.efficientnet_lite import load_efficientnet_lite0
    from devsearch.model.resnet import build_resnet50

    import_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="devsearch-bench-") as cache:
        start = time.perf_counter()
        first = load_efficientnet_lite0(Path(cache))
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        cached = load_efficientnet_lite0(Path(cache))
        cached_s = time.perf_counter() - start
    assert first.converted and not cached.converted

    lite_rate = _images_per_second(cached.model, args.batch, args.batches)
    resnet_rate = _images_per_second(build_resnet50(weights=None), args.batch, args.batches)

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, batch {args.batch}, {args.batches} timed batches")
    print(f"{'measure':<44} {'value':>10}")
    print(f"{'import keras + backbones (s)':<44} {import_s:>10.2f}")
    print(f"{'EfficientNet-Lite0 first start: convert (s)':<44} {first_s:>10.2f}")
    print(f"{'EfficientNet-Lite0 cached start (s)':<44} {cached_s:>10.2f}")
    print(f"{'  first / cached':<44} {first_s / cached_s:>10.2f}")
    print(f"{'EfficientNet-Lite0 images/s':<44} {lite_rate:>10.1f}")
    print(f"{'ResNet-50 (random weights) images/s':<44} {resnet_rate:>10.1f}")
    print(f"{'  Lite0 / ResNet-50':<44} {lite_rate / resnet_rate:>10.2f}")


if __name__ == "__main__":
    main()
