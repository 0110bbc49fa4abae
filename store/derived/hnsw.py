"""The HNSW index: a derived copy of the catalog's embeddings for fast k-NN in a long-lived searcher.

SQLite is the truth; store/derived/keeper.py keeps this file (saved, verified, caught up or rebuilt).
Building the graph costs minutes at scale, so a save catches up the verified saved copy instead of
building it anew. hnswlib is imported on first use: a one-shot query searches the flat file instead
(store/derived/flat.py).
"""
from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from devsearch.core.vectors import first_not_unit, top_k, unit_rows
from devsearch.store.derived.bonus import Bonus
from devsearch.store.derived.rows import CatalogRows

SPACE = "cosine"
M = 16
EF_CONSTRUCTION = 200
EF_QUERY = 400  # recall@10 0.992 at 1M clustered photos (0.937 at ef 100), 0.6 ms a query (bench/query_latency.py)
EXACT_LIMIT = 20_000  # a filtered query over at most this many photos is exact (a matrix product)
BONUS_CANDIDATES = 32  # at most this many times k photos from each list, with a bonus
REBUILD_AFTER = 1000  # changed vectors in one catch-up beyond which (and a fifth of the graph) it is built anew


_HEADER = struct.Struct("<6QiI3QdQ")  # hnswlib's saveIndex: offsetLevel0, max_elements, cur_element_count,
# size_data_per_element, label_offset, offsetData, maxlevel, enterpoint_node, maxM, maxM0, M, mult, ef_construction;
# then cur_element_count elements of size_data_per_element bytes: links, the vector (at offsetData), the label


def _saved_elements(data, dims: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, vectors) of a saved hnswlib graph, as views of its bytes; None when its header does not
    describe elements of dims float32 numbers and a label that fit in the file."""
    if len(data) < _HEADER.size:
        return None
    _, _, count, size, label_at, vector_at = _HEADER.unpack_from(data, 0)[:6]
    vector_end = vector_at + 4 * dims
    fits = vector_end <= size and label_at + 8 <= size and (label_at >= vector_end or label_at + 8 <= vector_at)
    if not fits or _HEADER.size + count * size > len(data):
        return None
    if count == 0:  # an empty graph's file ends at its header: no view may start past it
        return np.empty(0, np.uint64), np.empty((0, dims), np.float32)
    labels = np.ndarray((count,), np.uint64, buffer=data, offset=_HEADER.size + label_at, strides=(size,))
    vectors = np.ndarray((count, dims), np.float32, buffer=data, offset=_HEADER.size + vector_at, strides=(size, 4))
    return labels, vectors


def _new_index(dims: int):
    import hnswlib

    return hnswlib.Index(space=SPACE, dim=dims)


class HnswIndex:
    """hnswlib, cosine, M=16, ef_construction=200; labels are photo ids."""

    KIND = "hnsw"
    LABEL = "HNSW graph"
    ROLES = {"graph": ".bin"}
    LEGACY_FILES = ("vectors.hnsw", "vectors.json")  # its names before derived files named their catalog
    SAVED_FROM_CATALOG = False
    BLOCK_ROLES: tuple[str, ...] = ()  # read whole: checked whole at load

    def __init__(self, index, generation: int):
        self.index = index
        self.generation = generation
        self._saved = None  # the bytes of the file it was loaded from, until fault() has read them

    @classmethod
    def build(cls, catalog: CatalogRows, dims: int) -> "HnswIndex":
        """A new index of the catalog's indexed photos, with room to grow by a quarter before resizing."""
        ids, vectors = catalog.indexed_vectors(dims)
        index = _new_index(dims)
        capacity = int(len(ids) * 1.25) + 1024
        index.init_index(max_elements=capacity, M=M, ef_construction=EF_CONSTRUCTION, allow_replace_deleted=False)
        index.set_ef(EF_QUERY)
        built = cls(index, generation=0)
        built.add(ids, vectors)
        return built

    @classmethod
    def load(cls, files: dict, dims: int, sidecar: dict) -> "HnswIndex":
        """The saved graph (hnswlib reads it from its path); hnswlib's RuntimeError when it cannot."""
        if int(sidecar["dims"]) != dims:
            raise ValueError(f"holds {sidecar['dims']}-d vectors, not {dims}-d")
        index = _new_index(dims)
        index.load_index(str(files["graph"].path), max_elements=int(sidecar["capacity"]))
        index.set_ef(EF_QUERY)
        loaded = cls(index, generation=int(sidecar["generation"]))
        loaded._saved = files["graph"].data
        return loaded

    def fault(self, last_id: int) -> str | None:
        """What makes a loaded graph wrong though its checksum matches, None when nothing does: a label
        beyond the catalog's ids, a stored vector that is not a unit vector (hnswlib keeps them normed
        for cosine: a zeroed one is a photo no search finds). Read from the saved bytes, every element
        as a strided view (hnswlib's get_items copies one element at a time: 16 s at 1M)."""
        saved, self._saved = self._saved, None
        elements = _saved_elements(saved, self.index.dim) if saved is not None else None
        if elements is None or len(elements[0]) != self.index.element_count:
            return None if saved is None else "its layout is not hnswlib's"
        labels, vectors = elements
        if len(labels) and (labels.min() < 1 or labels.max() > last_id):
            return "it names photos the catalog never had"
        row = first_not_unit(vectors)
        return None if row is None else f"the vector of photo {int(labels[row])} is not a unit vector"

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Insert or replace (a deleted label comes back with its new vector)."""
        if len(ids) == 0:
            return
        needed = self.index.element_count + len(ids)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, 2 * self.index.get_max_elements()))
        self.index.add_items(np.asarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def catch_up(self, catalog: CatalogRows, dims: int) -> None:
        """Apply rows changed since this index's generation: (re)embedded ids, and ids no longer indexed."""
        ids, vectors, gone = catalog.changed_since(self.generation, dims)
        if len(ids) > max(REBUILD_AFTER, self.index.get_current_count() // 5):
            # replacing vectors in hnswlib is far slower than building anew (about 2k against 10k photos/s
            # here), which matters when a new projection replaces every vector
            self.index = self.build(catalog, dims).index
            return
        self.add(ids, vectors)
        self.remove(gone)

    def remove(self, ids: Sequence[int]) -> None:
        """mark_deleted; labels that are absent or already deleted are fine (catch-up replays)."""
        for photo_id in ids:
            try:
                self.index.mark_deleted(int(photo_id))
            except RuntimeError:
                pass

    def knn(self, vector: np.ndarray, k: int, live: int, allowed_ids: np.ndarray | None = None,
            bonus: Bonus | None = None) -> list[tuple[int, float]]:
        """(id, cosine similarity + bonus) best first. live: how many photos are indexed (k is capped by it).

        With a bonus the candidates are the m nearest by cosine and the m of highest bonus, scored
        exactly; m grows (2k, 8k, 32k) until no photo outside both lists could beat the k-th score
        (its cosine and its bonus are each at most the lists' last), as in Fagin's threshold
        algorithm, or it reaches 32k: approximate, like the graph search itself."""
        if bonus is None or not bonus.values.any():
            return self._knn(vector, k, live, allowed_ids)
        allowed = None if allowed_ids is None else np.unique(np.asarray(allowed_ids, dtype=np.int64))
        bonus = bonus.within(allowed)
        limit = live if allowed is None else len(allowed)
        with_bonus = np.flatnonzero(bonus.values > 0)  # ids: a photo without a bonus is no candidate by it
        ranked = with_bonus[top_k(bonus.values[with_bonus], min(limit, BONUS_CANDIDATES * k))]  # ranked once
        m = 2 * k
        while True:
            nearest = self._knn(vector, m, live, allowed)
            by_bonus = ranked[:m]
            candidates = np.unique(np.concatenate([np.array([i for i, _ in nearest], dtype=np.int64), by_bonus]))
            cosines = self._exact(np.asarray(vector, dtype=np.float32), len(candidates), candidates)
            ids = np.array([photo_id for photo_id, _ in cosines], dtype=np.int64)
            scores = np.array([score for _, score in cosines], dtype=np.float32) + bonus.of(ids)
            best = top_k(scores, k)
            outside = (nearest[-1][1] if nearest else 0.0) + max(
                float(bonus.values[by_bonus[-1]]) if len(by_bonus) == m else 0.0, 0.0)
            if m >= min(limit, BONUS_CANDIDATES * k) or len(best) < k or scores[best[-1]] >= outside:
                return [(int(ids[i]), float(scores[i])) for i in best]
            m *= 4

    def _knn(self, vector: np.ndarray, k: int, live: int, allowed_ids: np.ndarray | None) -> list[tuple[int, float]]:
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if allowed_ids is not None:
            allowed = np.unique(np.asarray(allowed_ids, dtype=np.int64))
            if len(allowed) <= max(EXACT_LIMIT, k):
                return self._exact(query[0], k, allowed)
            members = set(allowed.tolist())
            return self._search(query, min(k, len(allowed)), lambda label: label in members)
        return self._search(query, min(k, live), None)

    def _search(self, query: np.ndarray, k: int, keep) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        self.index.set_ef(max(EF_QUERY, 2 * k))
        self.index.set_num_threads(1)
        try:
            labels, distances = self.index.knn_query(query, k=k, filter=keep)
        except RuntimeError:  # fewer than k reachable (deleted-heavy graph): take what there is
            labels, distances = self._search_fewer(query, k, keep)
        return [(int(label), float(1.0 - dist)) for label, dist in zip(labels[0], distances[0])]

    def _search_fewer(self, query: np.ndarray, k: int, keep):
        while k > 1:
            k //= 2
            try:
                return self.index.knn_query(query, k=k, filter=keep)
            except RuntimeError:
                continue
        return np.empty((1, 0), dtype=np.uint64), np.empty((1, 0), dtype=np.float32)

    def _exact(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        if len(allowed) == 0 or k <= 0:
            return []
        try:
            vectors = np.asarray(self.index.get_items(allowed, return_type="numpy"), dtype=np.float32)
        except RuntimeError:  # an id committed after this index was caught up: skip it
            allowed = np.array([i for i in allowed if self._has(int(i))], dtype=np.int64)
            if len(allowed) == 0:
                return []
            vectors = np.asarray(self.index.get_items(allowed, return_type="numpy"), dtype=np.float32)
        scores = vectors @ unit_rows(query)
        return [(int(allowed[i]), float(scores[i])) for i in top_k(scores, k)]

    def _has(self, photo_id: int) -> bool:
        try:
            self.index.get_items([photo_id])
        except RuntimeError:
            return False
        return True

    def write(self, role: str, path: str) -> None:
        self.index.save_index(path)

    def describe(self) -> dict:
        return {"dims": self.index.dim, "capacity": self.index.get_max_elements(), "space": SPACE, "M": M,
                "ef_construction": EF_CONSTRUCTION}
