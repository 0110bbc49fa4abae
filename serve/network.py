"""The network, for what only it can answer: the vector of an uploaded photo, and what it sees in one.

Loading it (TensorFlow and the weights) takes seconds, so it happens on the first request that
needs it, never at start-up, and the bundle is kept. It must be the model the store was built
with; when the store is rebuilt with another one, the next request loads that.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.errors import ModelMismatchError
from core.photo import decode_photo
from core.settings import Settings
from core.vectors import unit_rows


class Network:
    """Runs on the model lane only (one thread)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._bundle = None

    def _for(self, manifest, check_model: Callable[[str], None]):
        if self._bundle is not None:
            try:
                check_model(self._bundle.fingerprint)
                return self._bundle
            except ModelMismatchError:
                self._bundle = None
        from model.bundle import load_bundle  # TensorFlow: imported on the first request that needs it

        bundle = load_bundle(self.settings, manifest)
        check_model(bundle.fingerprint)
        self._bundle = bundle
        return bundle

    def embed(self, photo: BinaryIO, manifest, check_model: Callable[[str], None]) -> np.ndarray:
        """The unit vector of a photo file (decoded with the indexer's guards; ImageError when it cannot be)."""
        pixels = decode_photo(photo).pixels
        return unit_rows(self._for(manifest, check_model).embed(pixels[None])[0])

    def describe(self, path: Path, manifest, check_model: Callable[[str], None]) -> dict:
        """`devsearch labels` for one photo: its top ImageNet classes and nearest words."""
        from model.image_labels import describe_image

        return describe_image(path, self.settings, bundle=self._for(manifest, check_model))
