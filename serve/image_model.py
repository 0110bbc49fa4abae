"""The network, for what only it can answer: the vector of an uploaded photo, and what it sees in one.

Loading it (TensorFlow and the weights) takes seconds, so it happens on the first request that
needs it, never at start-up. The loaded model is kept across the searchers the server opens as the
store changes, for as long as the store stays bound to the same model (same fingerprint).
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from devsearch.core.photo import decode_photo
from devsearch.core.vectors import unit_rows
from devsearch.model.resolver import ResolvedModel
from devsearch.store.kept_classes import TopClasses, keep_top


class ImageModel:
    """Runs on the model lane only (one thread)."""

    def __init__(self) -> None:
        self._model: ResolvedModel | None = None

    def _network(self, model: ResolvedModel):
        """The loaded network of the store's model (the one already loaded, when it is the same model)."""
        if self._model is None or self._model.manifest.fingerprint != model.manifest.fingerprint:
            self._model = model
        return self._model.network()

    def embed(self, photo: BinaryIO, model: ResolvedModel) -> tuple[np.ndarray, TopClasses | None]:
        """The unit vector of a photo file and its top classes (None when its model keeps none), decoded
        with the indexer's guards; ImageError when it cannot be."""
        pixels = decode_photo(photo).pixels
        vectors, probabilities = self._network(model).embed_and_classify(pixels[None])
        top = keep_top(probabilities)[0] if model.manifest.projects_classes else None
        return unit_rows(vectors[0]), top

    def describe(self, path: Path, model: ResolvedModel) -> dict:
        """`devsearch labels` for one photo: its top ImageNet classes and nearest words."""
        from devsearch.model.image_labels import describe_image

        return describe_image(path, model.settings, network=self._network(model))
