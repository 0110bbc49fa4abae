"""The flat vector file: every live photo's unit vector in one memory-mapped matrix, for exact search.

A one-shot `devsearch query` answers a single question and exits. Loading the HNSW graph costs it
far more than the search (0.15 s at 100k photos, against about 5 ms to map this file and score
every row), so one-shot searches are exact, over this file; long-lived searchers use HNSW.

Like the HNSW file it is derived from SQLite and tagged with a store generation. The matrix and
its ids are written under fresh names, and `flat.json` (renamed into place last) names the pair,
so a reader sees an old pair or a new pair, never one of each.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import numpy as np

from core.vectors import top_k, unit_rows
from core.files import write_atomically

SIDECAR_FILE = "flat.json"
_PREFIX = "flat-"


def remove_files(home: Path) -> None:
    home = Path(home)
    (home / SIDECAR_FILE).unlink(missing_ok=True)
    for path in home.glob(f"{_PREFIX}*.npy"):
        path.unlink(missing_ok=True)


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
        home = Path(home)
        try:
            sidecar = json.loads((home / SIDECAR_FILE).read_text())
            rows = int(sidecar["rows"])
            vectors = np.load(home / sidecar["vectors"], mmap_mode="r") if rows else np.empty((0, dims), np.float32)
            ids = np.load(home / sidecar["ids"], mmap_mode="r") if rows else np.empty(0, np.int64)
            generation = int(sidecar["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
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

    def knn(self, vector: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(id, cosine similarity) best first, exact; ties go to the smaller id (ids are ascending)."""
        query = unit_rows(np.ravel(vector))
        ids, vectors = self.ids, self.vectors
        if allowed_ids is not None:
            rows = self._rows_of(np.unique(np.asarray(allowed_ids, dtype=np.int64)))
            ids, vectors = ids[rows], vectors[rows]
        scores = vectors @ query
        return [(int(ids[i]), float(scores[i])) for i in top_k(scores, k)]

    def _rows_of(self, wanted: np.ndarray) -> np.ndarray:
        """Row numbers of the wanted ids that this file holds (ids absent from it are skipped)."""
        rows = np.searchsorted(self.ids, wanted)
        inside = rows < len(self.ids)
        rows = rows[inside]
        return rows[self.ids[rows] == wanted[inside]]

    def save(self, home: Path, generation: int) -> None:
        """Write the pair under fresh names, then flat.json naming them, then drop older pairs."""
        home = Path(home)
        token = f"{_PREFIX}{generation}-{secrets.token_hex(4)}"
        names = {"vectors": f"{token}.npy", "ids": f"{token}-ids.npy"}
        try:
            write_atomically(home / names["vectors"], lambda tmp: np.save(tmp, np.ascontiguousarray(self.vectors)))
            write_atomically(home / names["ids"], lambda tmp: np.save(tmp, np.ascontiguousarray(self.ids)))
            sidecar = {"generation": generation, "rows": len(self.ids), "dims": int(self.vectors.shape[1]), **names}
            write_atomically(home / SIDECAR_FILE, lambda tmp: Path(tmp).write_text(json.dumps(sidecar)))
        except BaseException:
            for name in names.values():
                (home / name).unlink(missing_ok=True)
            raise
        for path in home.glob(f"{_PREFIX}*.npy"):
            if path.name not in names.values():
                path.unlink(missing_ok=True)
        self.generation = generation
