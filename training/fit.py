"""Phase 3 of DeViSE: fit the head that maps backbone features into the word space.

The backbone is frozen, so its outputs are computed once per image and view (training.features)
and the head (model.heads.build_devise_head) trains on those cached feature maps with Adam: a
few thousand images and tens of epochs take minutes on 2 CPU cores. Controls from the paper: the
random-embedding DeViSE (`random_words`: each label gets a random unit vector instead of its word
vector) and a softmax classifier with the same layers, trained on the same features and labels.

A trained model is a bundle (model.bundle.save_bundle) plus `training.json` beside the manifest:
what it was trained on, so `eval --baselines` can train the controls on exactly the same data and
skip the images it was trained on.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np

from devsearch.core.errors import InputError, UsageError
from devsearch.core.settings import Settings
from devsearch.core.vectors import unit_rows
from devsearch.model.backbones import load_backbone
from devsearch.training.datasets import file_digest, label_targets, pick_holdout, read_datasets
from devsearch.training.features import dataset_features
from devsearch.model.heads import build_devise_head
from devsearch.training.losses import LOSSES
from devsearch.model.manifest import DEFAULT_BACKBONE, DEFAULT_WORDS
from devsearch.wordspace.lookup import WordLookup
from devsearch.wordspace.sources import open_words

DEFAULT_EPOCHS = 30
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
TRAINING_FILE = "training.json"

Say = Callable[[str], None]


@dataclass
class TrainSpec:
    """Everything that decides what a model is trained on; stored in training.json."""

    datasets: list[str]
    where: list[str] = field(default_factory=list)
    backbone: str = DEFAULT_BACKBONE
    words: str = DEFAULT_WORDS
    loss: str = "cosine"
    epochs: int = DEFAULT_EPOCHS
    holdout_labels: list[str] = field(default_factory=list)
    seed: int = 0
    random_words: bool = False
    augment: list[str] = field(default_factory=list)


@dataclass
class TrainingSet:
    maps: np.ndarray  # float16 (M, 7, 7, C): every usable image, once per view
    targets: np.ndarray  # int32 (M,): index into labels
    labels: list[str]
    label_vectors: np.ndarray  # (L, dims) unit targets
    digests: list[str]  # content digests of the images (one per image, not per view)
    skipped_labels: list[str]  # labels without a word vector
    failed: list[str]  # images that could not be decoded, with the reason


def random_label_vectors(labels: Sequence[str], dims: int) -> np.ndarray:
    """The paper's random embedding: one unit vector per label, seeded by the label text.

    Seeding by the text (not by position) gives a label the same vector in training and in
    evaluation, whatever the other labels are.
    """
    rows = []
    for label in labels:
        seed = int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
        rows.append(unit_rows(vector))
    return np.stack(rows) if rows else np.zeros((0, dims), np.float32)


def load_training_set(spec: TrainSpec, settings: Settings, words: WordLookup, say: Say = lambda _: None) -> TrainingSet:
    """The cached features and targets of the spec's images, without its held-out labels.

    Dataset and label errors come before the backbone is loaded, so they are reported at once.
    """
    dataset = read_datasets([Path(d) for d in spec.datasets], spec.where).without_labels(set(spec.holdout_labels))
    if not dataset.images:
        raise UsageError("every image of the dataset has a held-out label: hold out fewer labels")
    labels, vectors, skipped = label_targets(dataset.labels, words)
    if spec.random_words:
        vectors = random_label_vectors(labels, words.dims)
    index = {label: i for i, label in enumerate(labels)}
    images = [image for image in dataset.images if image.label in index]
    paths = [image.path for image in images]
    backbone = load_backbone(spec.backbone, settings.cache)
    maps, targets, failed, digests = [], [], [], []
    for view in ("plain", *spec.augment):
        features = dataset_features(images, backbone, settings.cache, view, settings.batch_size, say)
        usable = np.array([row not in features.failed for row in range(len(images))], dtype=bool)
        maps.append(features.maps[usable])
        targets.append(np.array([index[images[row].label] for row in np.flatnonzero(usable)], dtype=np.int32))
        if view == "plain":
            failed = [f"{paths[row]}: {reason}" for row, reason in features.failed.items()]
            digests = [file_digest(paths[row]) for row in np.flatnonzero(usable)]
            if not digests:
                raise UsageError(f"none of the {len(images)} images could be decoded (e.g. {failed[0]}): "
                                 "give a dataset of photos")
    return TrainingSet(np.concatenate(maps), np.concatenate(targets), labels, vectors, digests, skipped, failed)


def fit_head(data: TrainingSet, loss: str, epochs: int, seed: int, say: Say = lambda _: None) -> tuple[keras.Model, list[float]]:
    """Train the DeViSE head on the cached maps; returns it and the mean loss of each epoch."""
    if loss not in LOSSES:
        raise UsageError(f"unknown loss {loss!r}: choose {' or '.join(LOSSES)}")
    keras.utils.set_random_seed(seed)
    model = build_devise_head(data.maps.shape[1:], data.label_vectors.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=LOSSES[loss](data.label_vectors))
    return model, _fit(model, data, epochs, say)


def build_softmax_head(feature_shape: Sequence[int], classes: int) -> keras.Model:
    """The control: the DeViSE head's layers up to the hidden BatchNorm, then a softmax over the labels."""
    trunk = build_devise_head(feature_shape, 1, name="softmax_trunk")
    probabilities = keras.layers.Dense(classes, activation="softmax", name="classes")(trunk.get_layer("hidden_bn").output)
    return keras.Model(trunk.input, probabilities, name="softmax_head")


def fit_softmax(data: TrainingSet, epochs: int, seed: int, say: Say = lambda _: None) -> keras.Model:
    """Train the softmax baseline on the same maps and labels as the head."""
    keras.utils.set_random_seed(seed)
    model = build_softmax_head(data.maps.shape[1:], len(data.labels))
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy")
    _fit(model, data, epochs, say)
    return model


def _fit(model: keras.Model, data: TrainingSet, epochs: int, say: Say) -> list[float]:
    if epochs < 1:
        raise InputError(lambda name: f"{name('epochs')} must be at least 1, not {epochs}")
    report = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: say(f"{model.name} epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}"))
    history = model.fit(data.maps, data.targets, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True,
                        verbose=0, callbacks=[report])
    return [float(value) for value in history.history["loss"]]


def train(spec: TrainSpec, out_dir: Path, settings: Settings, say: Say = lambda _: None,
          holdout_fraction: float | None = None) -> dict:
    """Train a DeViSE head as the spec says and write it as a bundle; returns a summary.

    holdout_fraction: hold out a seeded random fraction of the labels (instead of spec.holdout_labels).
    """
    from devsearch.model.bundle import save_bundle

    if holdout_fraction is not None:
        if spec.holdout_labels:
            raise InputError(lambda name: f"give {name('holdout_labels')} or {name('holdout_fraction')}, not both")
        labels = read_datasets([Path(d) for d in spec.datasets], spec.where).labels
        spec = replace(spec, holdout_labels=pick_holdout(labels, holdout_fraction, spec.seed))
    data = load_training_set(spec, settings, open_words(spec.words, settings.cache), say)
    say(f"training on {len(data.digests)} images x {1 + len(spec.augment)} views, {len(data.labels)} labels"
        + (f" ({len(data.skipped_labels)} labels without a word vector skipped)" if data.skipped_labels else ""))
    trained, losses = fit_head(data, spec.loss, spec.epochs, spec.seed, say)
    head = build_devise_head(trained.input_shape[1:], data.label_vectors.shape[1])  # without optimizer state
    head.set_weights(trained.get_weights())
    trained_head = dict(head="devise", head_model=head, labels="trained", loss=spec.loss, random_words=spec.random_words)
    out_dir = Path(out_dir)
    if spec.random_words:
        with tempfile.TemporaryDirectory() as tmp:
            vectors_file = _write_word2vec(Path(tmp) / "random-words.txt", data.labels, data.label_vectors)
            manifest = save_bundle(out_dir, settings=settings, backbone=spec.backbone, words=str(vectors_file),
                                   **trained_head)
    else:
        manifest = save_bundle(out_dir, settings=settings, backbone=spec.backbone, words=spec.words, **trained_head)
    summary = {
        "spec": asdict(spec),
        "labels": data.labels,
        "skipped_labels": data.skipped_labels,
        "failed_images": data.failed,
        "images": len(data.digests),
        "image_digests": data.digests,
        "epoch_losses": losses,
    }
    (out_dir / TRAINING_FILE).write_text(json.dumps(summary, indent=1))
    return {**summary, "fingerprint": manifest.fingerprint, "path": str(manifest.path)}


def read_training(model_dir: Path) -> dict | None:
    """A bundle's training.json, or None for a bundle that was not trained here (e.g. ConSE)."""
    path = Path(model_dir) / TRAINING_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _write_word2vec(path: Path, labels: Sequence[str], vectors: np.ndarray) -> Path:
    """The random-embedding model's word space as a word2vec text file: one token per label."""
    rows = [f"{len(labels)} {vectors.shape[1]}"]
    rows += ["_".join(label.split()) + " " + " ".join(f"{v:.6f}" for v in vector) for label, vector in zip(labels, vectors)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
