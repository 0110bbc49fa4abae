"""The flat vector file: every live photo's unit vector in one memory-mapped matrix, for exact search.

A one-shot `devsearch query` answers a single question and exits. Loading the HNSW graph costs it
far more than the search (0.15 s at 100k photos, against about 5 ms to map this file and score
every row), so one-shot searches are exact, over this file; long-lived searchers use HNSW.

It is a derived file (store/derived/keeper.py keeps it): two arrays, the unit vectors and their photo ids,
named by `flat.json`. Each save builds it anew from the catalog's rows, so a damaged copy is never
carried forward.
"""
from __future__ import annotations

import numpy as np

from devsearch.core.vectors import first_not_unit, top_k, unit_rows
from devsearch.store.derived.bonus import Bonus
from devsearch.store.derived.npy import npy_view
from devsearch.store.derived.rows import CatalogRows, say_damaged_vectors

class FlatVectors:
    """ids (int64, ascending) and their unit vectors (float32 rows), in memory or mapped from disk."""

    KIND = "flat"
    LABEL = "flat vector file"
    ROLES = {"vectors": ".npy", "ids": "-ids.npy"}
    LEGACY_FILES: tuple[str, ...] = ()
    SAVED_FROM_CATALOG = True
    BLOCK_ROLES: tuple[str, ...] = ()  # read whole: checked whole at load

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, generation: int, left_out: np.ndarray | None = None):
        self.ids = ids
        self.vectors = vectors
        self.generation = generation
        # indexed photos whose catalog vector is damaged (left out of the file, named in its sidecar so
        # that each query that reads it still says so)
        self.left_out = np.empty(0, np.int64) if left_out is None else np.asarray(left_out, np.int64)

    @classmethod
    def of_rows(cls, dims: int, ids: np.ndarray, vectors: np.ndarray) -> "FlatVectors":
        """From catalog rows (any order); rows are unit-normed here."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), dims)
        order = np.argsort(ids, kind="stable")
        return cls(ids[order], unit_rows(vectors)[order], generation=0)

    @classmethod
    def build(cls, catalog: CatalogRows, dims: int) -> "FlatVectors":
        built = cls.of_rows(dims, *catalog.indexed_vectors(dims))
        built.left_out = np.array(sorted(catalog.damaged_vectors()), dtype=np.int64)
        return built

    @classmethod
    def load(cls, files: dict, dims: int, sidecar: dict) -> "FlatVectors":
        """The saved pair, as views of the mapped files; ValueError when it is not the shape described."""
        rows = int(sidecar["rows"])
        vectors, ids = npy_view(files["vectors"].data), npy_view(files["ids"].data)
        if vectors.shape != (rows, dims) or vectors.dtype != np.float32 or ids.shape != (rows,) or ids.dtype != np.int64:
            raise ValueError(f"holds {vectors.shape} {vectors.dtype} vectors and {ids.shape} {ids.dtype} ids")
        left_out = np.asarray(sidecar.get("left_out", []), dtype=np.int64)
        if len(left_out):
            say_damaged_vectors(files["vectors"].path.parent, left_out)
        return cls(ids, vectors, int(sidecar["generation"]), left_out)

    def fault(self, last_id: int) -> str | None:
        """What makes a loaded file wrong though its checksums match, None when nothing does: ids not
        ascending or beyond the catalog's, a row that is not a unit vector (a zeroed row would drop
        its photo from every answer unseen). About 40 ms at 1M photos of 50-d."""
        ids = self.ids
        if len(ids) and (ids[0] < 1 or ids[-1] > last_id or not np.all(ids[1:] > ids[:-1])):
            return "its ids are not the catalog's in ascending order"
        row = first_not_unit(self.vectors)
        return None if row is None else f"the vector of photo {int(ids[row])} is not a unit vector"

    def catch_up(self, catalog: CatalogRows, dims: int) -> None:
        """Apply rows changed since this file's generation: (re)embedded ids, and ids no longer indexed.

        Only the changed rows are normed; the kept ones already are."""
        ids, vectors, gone = catalog.changed_since(self.generation, dims)
        self.left_out = np.union1d(np.setdiff1d(self.left_out, np.concatenate([ids, gone])),
                                   np.intersect1d(gone, np.fromiter(catalog.damaged_vectors(), np.int64)))
        fresh = self.of_rows(dims, ids, vectors)
        keep = ~np.isin(self.ids, np.concatenate([fresh.ids, gone]))
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
        if bonus is not None:
            within = np.searchsorted(ids, len(bonus.values))  # ids are ascending
            scores[:within] += bonus.values[ids[:within]]
        return [(int(ids[i]), float(scores[i])) for i in top_k(scores, k)]

    def _rows_of(self, wanted: np.ndarray) -> np.ndarray:
        """Row numbers of the wanted ids that this file holds (ids absent from it are skipped)."""
        rows = np.searchsorted(self.ids, wanted)
        inside = rows < len(self.ids)
        rows = rows[inside]
        return rows[self.ids[rows] == wanted[inside]]

    def write(self, role: str, path: str) -> None:
        np.save(path, np.ascontiguousarray(self.vectors if role == "vectors" else self.ids))

    def describe(self) -> dict:
        return {"rows": len(self.ids), "dims": int(self.vectors.shape[1]), "left_out": self.left_out.tolist()}
