"""Unit-length vectors: the one normalisation every package uses (cosine is then a dot product)."""
from __future__ import annotations

import numpy as np


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 copy with each vector along the last axis scaled to length 1; a zero vector stays zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


_STRIDE = 64  # a large array's threshold comes from every 64th score: about 64 x k candidates remain
_SAMPLED_FROM = 100_000  # below this many scores, the exact k-th largest is cheap enough


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first; equal scores keep their index order.

    Exact: every score at or above a lower bound of the k-th largest is ranked, so ties at the
    k-th place are broken by index too. For a million scores the bound is the k-th largest of an
    evenly spaced sample (its k best are k scores of the whole), about ten times cheaper than
    partitioning them all."""
    scores = np.asarray(scores)
    k = min(int(k), len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    if k == len(scores):
        top = np.arange(len(scores))
    else:
        sample = scores[::_STRIDE] if len(scores) >= _SAMPLED_FROM and len(scores) // _STRIDE >= k else scores
        bound = np.partition(sample, len(sample) - k)[len(sample) - k]
        top = np.flatnonzero(scores >= bound) if np.isfinite(bound) else np.arange(len(scores))
    return top[np.lexsort((top, -scores[top]))][:k]
