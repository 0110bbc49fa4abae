"""The HNSW index: a derived copy of the catalog's embeddings for fast k-NN in a long-lived searcher.

SQLite is the truth. The index file carries the store generation it reflects in a sidecar JSON
(with its byte size and a digest of its head, to notice truncation or garbage before hnswlib reads
it); the derived-file keeper decides whether to use it, catch it up, or rebuild it (store/derived.py).
hnswlib is imported on first use: a one-shot query searches the flat file instead (store/flat.py).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.vectors import top_k, unit_rows
from core.files import write_atomically

INDEX_FILE = "vectors.hnsw"
SIDECAR_FILE = "vectors.json"
SPACE = "cosine"
M = 16
EF_CONSTRUCTION = 200
EF_QUERY = 400  # recall@10 0.992 at 1M clustered photos (0.937 at ef 100), 0.6 ms a query (bench/query_latency.py)
EXACT_LIMIT = 20_000  # a filtered query over at most this many photos is exact (a matrix product)
HEAD_BYTES = 1 << 20


def _head_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()


def _new_index(dims: int):
    import hnswlib

    return hnswlib.Index(space=SPACE, dim=dims)


def remove_files(home: Path) -> None:
    for name in (SIDECAR_FILE, INDEX_FILE):
        (Path(home) / name).unlink(missing_ok=True)


class HnswIndex:
    """hnswlib, cosine, M=16, ef_construction=200; labels are photo ids."""

    def __init__(self, index, generation: int):
        self.index = index
        self.generation = generation

    @classmethod
    def build(cls, dims: int, ids: np.ndarray, vectors: np.ndarray) -> "HnswIndex":
        """A new index of these photos, with room to grow by a quarter before resizing."""
        index = _new_index(dims)
        capacity = int(len(ids) * 1.25) + 1024
        index.init_index(max_elements=capacity, M=M, ef_construction=EF_CONSTRUCTION, allow_replace_deleted=False)
        index.set_ef(EF_QUERY)
        built = cls(index, generation=0)
        built.add(ids, vectors)
        return built

    @classmethod
    def load(cls, home: Path, dims: int) -> "HnswIndex | None":
        """The saved index, or None when it is missing, truncated, corrupt or of other dimensions."""
        path = Path(home) / INDEX_FILE
        try:
            sidecar = json.loads((Path(home) / SIDECAR_FILE).read_text())
            if (int(sidecar["dims"]) != dims or path.stat().st_size != int(sidecar["bytes"])
                    or _head_digest(path) != sidecar["head_sha256"]):
                return None
            index = _new_index(dims)
            index.load_index(str(path), max_elements=int(sidecar["capacity"]))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, MemoryError):
            return None
        index.set_ef(EF_QUERY)
        return cls(index, generation=int(sidecar["generation"]))

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Insert or replace (a deleted label comes back with its new vector)."""
        if len(ids) == 0:
            return
        needed = self.index.element_count + len(ids)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, 2 * self.index.get_max_elements()))
        self.index.add_items(np.asarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def catch_up(self, ids: np.ndarray, vectors: np.ndarray, gone: np.ndarray) -> None:
        """Apply rows changed since the saved generation: (re)embedded ids, and ids no longer indexed."""
        self.add(ids, vectors)
        self.remove(gone)

    def remove(self, ids: Sequence[int]) -> None:
        """mark_deleted; labels that are absent or already deleted are fine (catch-up replays)."""
        for photo_id in ids:
            try:
                self.index.mark_deleted(int(photo_id))
            except RuntimeError:
                pass

    def knn(self, vector: np.ndarray, k: int, live: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(id, cosine similarity) best first. live: how many photos are indexed (k is capped by it)."""
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

    def save(self, home: Path, generation: int) -> None:
        """Write the index, then its sidecar (each atomically): the sidecar describes the file in place."""
        home = Path(home)
        sidecar = {"generation": generation, "dims": self.index.dim, "capacity": self.index.get_max_elements(),
                   "space": SPACE, "M": M, "ef_construction": EF_CONSTRUCTION}

        def write_index(tmp: str) -> None:
            self.index.save_index(tmp)
            sidecar.update(bytes=os.path.getsize(tmp), head_sha256=_head_digest(Path(tmp)))

        write_atomically(home / INDEX_FILE, write_index)
        write_atomically(home / SIDECAR_FILE, lambda tmp: Path(tmp).write_text(json.dumps(sidecar)))
        self.generation = generation
