"""A per-photo addition to k-NN scores, as the derived files take it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bonus:
    """An addition to photos' cosine scores (the mass of a query's classes, times its weight), by photo id.

    Dense: values[photo id], 0 for ids without one or past its end. A store numbers its photos
    from 1 with few gaps, so adding it to a million scores is one gather, not a search of a million ids."""

    values: np.ndarray  # float32

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The bonus of each id."""
        ids = np.asarray(ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(self.values))
        out = np.zeros(len(ids), dtype=np.float32)
        out[inside] = self.values[ids[inside]]
        return out

    def scaled(self, factor: float) -> "Bonus":
        return Bonus(self.values * np.float32(factor))

    def __add__(self, other: "Bonus") -> "Bonus":
        longer, shorter = sorted((self.values, other.values), key=len, reverse=True)
        values = longer.astype(np.float32, copy=True)
        values[:len(shorter)] += shorter
        return Bonus(values)

    def within(self, allowed: np.ndarray | None) -> "Bonus":
        """Only the ids in allowed, or all when None."""
        if allowed is None:
            return self
        allowed = np.asarray(allowed, dtype=np.int64)
        allowed = allowed[(allowed >= 0) & (allowed < len(self.values))]
        values = np.zeros_like(self.values)
        values[allowed] = self.values[allowed]
        return Bonus(values)
