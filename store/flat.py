"""The flat vector file: every live photo's unit vector in one memory-mapped matrix, for exact search.

A one-shot `devsearch query` answers a single question and exits. Loading the HNSW graph costs it
far more than the search (0.15 s at 100k photos, against about 5 ms to map this file and score
every row), so one-shot searches are exact, over this file; long-lived searchers use HNSW.

Like the HNSW file it is derived from SQLite and tagged with a store generation. The matrix and
its ids are written under fresh names, and `flat.json` (renamed into place last) names the pair,
so a reader sees an old pair or a new pair, never one of each.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.vectors import top_k, unit_rows
from store.array_files import load_arrays, remove_arrays, save_arrays
from store.records import Bonus

SIDECAR_FILE = "flat.json"
_PREFIX = "flat-"


def remove_files(home: Path) -> None:
    remove_arrays(home, SIDECAR_FILE, _PREFIX)


class FlatVectors:
    """ids (int64, ascending) and their unit vectors (float32 rows), in memory or mapped from disk."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, generation: int):
        self.ids = ids
        self.vectors = vectors
        self.generation = generation

    @classmethod
    def build(cls, dims: int, ids: np.ndarray, vectors: np.ndarray) -> "FlatVectors":
        """From catalog rows (any order); rows are unit-normed here."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), dims)
        order = np.argsort(ids, kind="stable")
        return cls(ids[order], unit_rows(vectors)[order], generation=0)

    @classmethod
    def load(cls, home: Path, dims: int) -> "FlatVectors | None":
        """The saved pair, memory-mapped; None when missing, truncated or of another shape."""
        loaded = load_arrays(home, SIDECAR_FILE, ("vectors", "ids"))
        if loaded is None:
            return None
        sidecar, arrays = loaded
        vectors, ids, rows, generation = arrays["vectors"], arrays["ids"], sidecar.get("rows"), int(sidecar["generation"])
        if vectors.shape != (rows, dims) or vectors.dtype != np.float32 or ids.shape != (rows,) or ids.dtype != np.int64:
            return None
        return cls(ids, vectors, generation)

    def catch_up(self, ids: np.ndarray, vectors: np.ndarray, gone: np.ndarray) -> None:
        """Apply rows changed since this file's generation: (re)embedded ids, and ids no longer indexed.

        Only the changed rows are normed; the kept ones already are."""
        fresh = self.build(self.vectors.shape[1], ids, vectors)
        keep = ~np.isin(self.ids, np.concatenate([fresh.ids, np.asarray(gone, dtype=np.int64)]))
        merged_ids = np.concatenate([self.ids[keep], fresh.ids])
        order = np.argsort(merged_ids, kind="stable")
        self.ids, self.vectors = merged_ids[order], np.concatenate([self.vectors[keep], fresh.vectors])[order]

    def knn(self, vector: np.ndarray, k: int, allowed_ids: np.ndarray | None = None,
            bonus: Bonus | None = None) -> list[tuple[int, float]]:
        """(id, cosine similarity + bonus) best first, exact; ties go to the smaller id (ids are ascending)."""
        query = unit_rows(np.ravel(vector))
        ids, vectors = self.ids, self.vectors
        if allowed_ids is not None:
            rows = self._rows_of(np.unique(np.asarray(allowed_ids, dtype=np.int64)))
            ids, vectors = ids[rows], vectors[rows]
        scores = vectors @ query
        if bonus is not None and len(bonus.ids):
            at = np.searchsorted(ids, bonus.ids)
            inside = at < len(ids)
            at, values = at[inside], bonus.values[inside]
            hit = ids[at] == bonus.ids[inside]
            scores[at[hit]] += values[hit]
        return [(int(ids[i]), float(scores[i])) for i in top_k(scores, k)]

    def _rows_of(self, wanted: np.ndarray) -> np.ndarray:
        """Row numbers of the wanted ids that this file holds (ids absent from it are skipped)."""
        rows = np.searchsorted(self.ids, wanted)
        inside = rows < len(self.ids)
        rows = rows[inside]
        return rows[self.ids[rows] == wanted[inside]]

    def save(self, home: Path, generation: int) -> None:
        """Write the pair under fresh names, then flat.json naming them, then drop older pairs."""
        save_arrays(home, SIDECAR_FILE, _PREFIX, generation, {"vectors": self.vectors, "ids": self.ids},
                    rows=len(self.ids), dims=int(self.vectors.shape[1]))
        self.generation = generation
