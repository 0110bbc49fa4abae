"""A bundle's network for inference on the light runtime (model/runtime.py): converted from Keras
once, cached by the model's fingerprint, run without TensorFlow or Keras.

The cache is `DEVSEARCH_CACHE/runtime/<hash of the fingerprint>/`: `network.tflite` and
`network.json` (the fingerprint, the file's checksum). The fingerprint names the weights that decide
the outputs, and the conversion loads them through model/bundle.py, which refuses a bundle whose
weights do not match its fingerprint; so a converted file found under a fingerprint is that model's
network, and a later start needs only to check the file's checksum. The converted graph is the
backbone (and a DeViSE head): ConSE's projection of the class probabilities is done afterwards in
numpy (model/conse.py), with the class vectors checked against the fingerprint by the resolver.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xxhash

from devsearch.core.files import write_atomically
from devsearch.core.settings import Settings
from devsearch.core.vectors import unit_rows
from devsearch.model.conse import ConseProjection, project_all
from devsearch.model.manifest import Manifest
from devsearch.model.runtime import SUFFIX, RuntimeModel
from devsearch.wordspace.lookup import WordLookup

if TYPE_CHECKING:
    from devsearch.model.bundle import ModelBundle

CACHE_FORMAT = 2  # 1: Keras's export, outputs by position; 2: outputs by name (a signature's or the tensors')
NETWORK_FILE = "network" + SUFFIX
INFO_FILE = "network.json"
INPUT, EMBEDDING, PROBABILITIES = "images", "embedding", "probabilities"  # the converted file's tensor names


def cache_folder(settings: Settings, fingerprint: str) -> Path:
    """Where the converted network of the model with this fingerprint lives."""
    return settings.cache / "runtime" / hashlib.sha256(fingerprint.encode()).hexdigest()[:24]


def _checksum(path: Path) -> str:
    with open(path, "rb") as handle:
        return xxhash.xxh3_128_hexdigest(handle.read())


def cached_network(settings: Settings, fingerprint: str) -> Path | None:
    """The converted file of that model when the cache holds it intact, else None."""
    folder = cache_folder(settings, fingerprint)
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        intact = (info.get("format") == CACHE_FORMAT and info.get("fingerprint") == fingerprint
                  and _checksum(folder / NETWORK_FILE) == info.get("checksum"))
    except (OSError, ValueError, AttributeError):
        return None
    return folder / NETWORK_FILE if intact else None


def convert(bundle: ModelBundle, settings: Settings) -> Path:
    """Convert the bundle's Keras model (on the TensorFlow backend; its fingerprint checked against its
    weights, by load_bundle or make_bundle) and cache it under that fingerprint.

    The graph is traced once, its weights frozen into constants, and the frozen graph handed to
    TensorFlow Lite's converter with its named input and outputs; the file carries those tensor names
    (model/runtime.py runs it by them). The converter's own path from a traced function writes and
    reads back a SavedModel first (as does Keras's `export(format="litert")`): about 2.5 x longer here."""
    import tensorflow as tf
    # the public converter freezes with this very function; it is not exported under tf.*
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from devsearch.model.backend import native_stderr_muted

    model = bundle.model
    outputs = [PROBABILITIES, EMBEDDING] if bundle.head_model is not None else [PROBABILITIES]

    def network(images):
        embedding, probabilities = model(images, training=False)
        named = {PROBABILITIES: probabilities, EMBEDDING: embedding}
        return [tf.identity(named[name], name=name) for name in outputs]

    traced = tf.function(network, input_signature=[tf.TensorSpec((None, 224, 224, 3), tf.uint8, name=INPUT)])
    with native_stderr_muted():
        graph = convert_variables_to_constants_v2(traced.get_concrete_function()).graph
        converter = tf.compat.v1.lite.TFLiteConverter(
            graph.as_graph_def(), [graph.get_tensor_by_name(f"{INPUT}:0")],
            [graph.get_tensor_by_name(f"{name}:0") for name in outputs])
        data = converter.convert()
    folder = cache_folder(settings, bundle.fingerprint)
    info = {"format": CACHE_FORMAT, "fingerprint": bundle.fingerprint, "checksum": xxhash.xxh3_128_hexdigest(data)}
    # readable by all, as the converted backbone weights: the cache may be shared by a machine's users
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / NETWORK_FILE, lambda tmp: Path(tmp).write_bytes(data), mode=0o644)
    write_atomically(folder / INFO_FILE, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2)), mode=0o644)
    return folder / NETWORK_FILE


class ConvertedNetwork:
    """The network of one model on the light runtime: uint8 images (N, 224, 224, 3) in, unit
    word-space vectors and ImageNet probabilities out, as ModelBundle.embed_and_classify."""

    def __init__(self, manifest: Manifest, path: Path, words: WordLookup,
                 projection: Callable[[], ConseProjection] | None):
        """projection: the ConSE class vectors (checked), for a model that projects its classes."""
        self.manifest = manifest
        self.fingerprint = manifest.fingerprint
        self.dims = manifest.dims
        self.device = "cpu"
        self.words = words
        self._model = RuntimeModel(path)
        self._projection = projection() if projection is not None else None

    def embed_and_classify(self, images: np.ndarray, pad_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One pass: (unit embeddings (N, dims), probabilities (N, 1000)); pad_to is Keras's concern only."""
        outputs = self._model.run({INPUT: np.ascontiguousarray(images, dtype=np.uint8)})
        probabilities = outputs[PROBABILITIES].astype(np.float32, copy=False)
        if self._projection is None:
            return unit_rows(outputs[EMBEDDING].astype(np.float32, copy=False)), probabilities
        return project_all(probabilities, self._projection.class_vectors, self._projection.top_t), probabilities

    def embed(self, images: np.ndarray, pad_to: int | None = None) -> np.ndarray:
        return self.embed_and_classify(images, pad_to)[0]

    def runtime(self) -> dict[str, str]:
        """What runs the network, for the index summary and `status`."""
        return {"backend": "litert", "device": self.device, "precision": "float32"}
