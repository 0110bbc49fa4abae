"""A photo's classifier output as the catalog keeps it: its TOP_K classes and their probabilities.

Why keep them: the mass of a query word (the probability on the classes below its WordNet senses)
is read from them, and a new ConSE projection of the same backbone is recomputed from them without
decoding the photo again. Why TOP_K = 50: ConSE mixes the top T <= 50 classes, so its vector is
exactly the same from these; the mass of a general word misses the long tail (these photos' median
tail beyond 50 classes is 0.14), which measured on the dev split changes retrieval AP by under 0.005
(scripts/tune_ranking.py). 300 bytes a photo: K class ids (uint16) then K probabilities (float32),
little-endian, most probable first.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from devsearch.model.conse import top_classes

TOP_K = 50
_IDS = np.dtype("<u2")
_PROBABILITIES = np.dtype("<f4")


@dataclass(frozen=True)
class TopClasses:
    """One photo's most probable classes (int64 ids) and their probabilities (float32), best first."""

    ids: np.ndarray
    probabilities: np.ndarray

    def to_blob(self) -> bytes:
        return self.ids.astype(_IDS).tobytes() + self.probabilities.astype(_PROBABILITIES).tobytes()

    @classmethod
    def from_blob(cls, blob: bytes) -> "TopClasses":
        k = len(blob) // (_IDS.itemsize + _PROBABILITIES.itemsize)
        ids = np.frombuffer(blob, dtype=_IDS, count=k).astype(np.int64)
        return cls(ids, np.frombuffer(blob, dtype=_PROBABILITIES, offset=k * _IDS.itemsize, count=k).copy())


def keep_top(probabilities: np.ndarray) -> list[TopClasses]:
    """What the catalog keeps of classifier outputs (N, classes)."""
    ids, values = top_classes(probabilities, TOP_K)
    return [TopClasses(i, p) for i, p in zip(ids, values)]


def stack(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Blobs as matrices: class ids (N, K) int64 and probabilities (N, K) float32, K the longest blob's
    (shorter ones padded with probability 0, which adds nothing to a mass or a projection)."""
    entry = _IDS.itemsize + _PROBABILITIES.itemsize
    k = max((len(blob) // entry for blob in blobs), default=TOP_K)
    if any(len(blob) != k * entry for blob in blobs):
        rows = [TopClasses.from_blob(blob) for blob in blobs]
        ids = np.zeros((len(rows), k), np.int64)
        probabilities = np.zeros((len(rows), k), np.float32)
        for row, top in enumerate(rows):
            ids[row, :len(top.ids)], probabilities[row, :len(top.ids)] = top.ids, top.probabilities
        return ids, probabilities
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), k * entry)
    split = k * _IDS.itemsize
    ids = np.ascontiguousarray(raw[:, :split]).view(_IDS).astype(np.int64)
    return ids, np.ascontiguousarray(raw[:, split:]).view(_PROBABILITIES).astype(np.float32)
