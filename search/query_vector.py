"""Turn parsed terms into the one unit vector that is searched for.

Each term becomes a unit vector (a word from the word space, an image from the network or the
store), they are summed with their weights, and the sum is unit-normed. Image vectors come from a
callback so that a text-only query never loads the network.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from devsearch.core.errors import UsageError
from devsearch.core.vectors import unit_rows
from devsearch.search.query_parser import Term

_CANCEL_EPS = 1e-6

WordVectors = Callable[[str], np.ndarray]
ImageVectors = Callable[[list[Path]], np.ndarray]


def unit_nonzero(vector: np.ndarray) -> np.ndarray:
    """float32 copy of one vector scaled to length 1; unlike core.vectors.unit_rows, which keeps a zero
    vector zero, a zero (or non-finite) vector is a UsageError: there is nothing to search for."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm):
        raise UsageError("the query's weighted sum is not a finite number: use weights like 2 or 0.5")
    if norm < _CANCEL_EPS:
        raise UsageError("the query's terms cancel out (their weighted sum is zero): change a weight or a term")
    return vector / norm


def query_vector(terms: Sequence[Term], word_vector: WordVectors, image_vectors: ImageVectors | None,
                 dims: int) -> np.ndarray:
    """The weighted, unit-normed sum of the terms' unit vectors, float32 (dims,).

    image_vectors is called once, with every image term's path, and only when there is one.
    """
    images = [term.image for term in terms if term.image is not None]
    by_image: dict[Path, np.ndarray] = {}
    if images:
        if image_vectors is None:
            raise UsageError("image terms need the network, which is not available here")
        by_image = dict(zip(images, np.asarray(image_vectors(images), dtype=np.float32)))
    total = np.zeros(dims, dtype=np.float32)
    scale = max(abs(term.weight) for term in terms) or 1.0  # only the direction counts: float32 never overflows
    for term in terms:
        vec = by_image[term.image] if term.image is not None else word_vector(term.text)
        vec = np.asarray(vec, dtype=np.float32).reshape(-1)
        if vec.shape != (dims,):
            raise UsageError(
                f"term {term.text!r} has a {vec.shape[0]}-d vector but the store holds {dims}-d ones: "
                "the store and the model do not match"
            )
        total += (term.weight / scale) * unit_rows(vec)
    return unit_nonzero(total)
