"""The derived-file keeper: the HNSW graph, the flat matrix and the class postings, kept in step with the catalog.

The first two copy the catalog's embeddings, the postings its photos' top classes; each is tagged
with the store generation it reflects. A saved file is loaded, then caught up with the rows changed
since it was saved, or rebuilt from the catalog when it is missing, damaged or ahead of it; the
writer saves each one that is behind.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.files import saved_generation
from store import flat, hnsw, postings
from store.flat import FlatVectors
from store.hnsw import HnswIndex
from store.postings import Postings
from store.reader import CatalogReader

Derived = HnswIndex | FlatVectors | Postings
REBUILD_AFTER = 1000  # replaced vectors in one commit beyond which the HNSW graph is rebuilt, not patched


class DerivedFiles:
    """The HNSW graph (loaded once, then patched by this writer's commits), the flat matrix and the
    class postings (each reloaded when the catalog has moved on), for the store in home."""

    def __init__(self, home: Path, catalog: CatalogReader, dims: Callable[[], int | None]):
        self.home = home
        self._catalog = catalog
        self._dims = dims  # the bound model's dimensions, None while the store is unbound
        self._hnsw: HnswIndex | None = None
        self._hnsw_dirty = False
        self._flat: FlatVectors | None = None
        self._flat_dirty = False
        self._postings: Postings | None = None
        self._postings_dirty = False
        self._hnsw_rebuild = False  # many vectors were replaced: build the graph anew when next needed

    def hnsw(self) -> HnswIndex | None:
        """The HNSW index, loaded once; the writer keeps it current with apply()."""
        if self._hnsw is None and self._hnsw_rebuild:
            dims = self._dims()
            with self._catalog.snapshot():
                self._hnsw = HnswIndex.build(dims, *self._catalog.indexed_vectors(dims))
                self._hnsw.generation = self._catalog.generation()
            self._hnsw_rebuild, self._hnsw_dirty = False, True
        elif self._hnsw is None:
            self._hnsw, current = self._current(HnswIndex)
            self._hnsw_dirty = not current
        return self._hnsw

    def flat(self) -> FlatVectors | None:
        """The flat matrix, reloaded when a commit has moved the catalog on since it was read."""
        if self._flat is None or self._flat.generation != self._catalog.generation():
            self._flat, current = self._current(FlatVectors)
            self._flat_dirty = not current
        return self._flat

    def postings(self) -> Postings | None:
        """The class postings, reloaded when a commit has moved the catalog on since they were read."""
        if self._postings is None or self._postings.generation != self._catalog.generation():
            self._postings, current = self._current(Postings)
            self._postings_dirty = not current
        return self._postings

    def _current(self, kind: type[Derived]):
        """(derived file as of the catalog's generation, whether the saved file already was that)."""
        dims = self._dims()
        if dims is None:
            return None, True
        with self._catalog.snapshot():
            generation = self._catalog.generation()
            derived = kind.load(self.home, dims)
            current = derived is not None and derived.generation == generation
            if derived is None or derived.generation > generation:
                derived = kind.build(dims, *self._rows(kind, dims))
            elif not current:
                derived.catch_up(*self._changed_rows(kind, derived.generation, dims))
        derived.generation = generation
        return derived, current

    def _rows(self, kind: type[Derived], dims: int) -> tuple:
        return self._catalog.indexed_classes() if kind is Postings else self._catalog.indexed_vectors(dims)

    def _changed_rows(self, kind: type[Derived], generation: int, dims: int) -> tuple:
        if kind is Postings:
            return self._catalog.classes_changed_since(generation)
        return self._catalog.changed_since(generation, dims)

    def apply(self, added: dict[int, np.ndarray], removed: list[int], generation: int, replaced: int = 0) -> None:
        """Apply one commit to the in-memory HNSW index (the flat matrix and postings catch up when
        saved). replaced: how many of added already had a vector; replacing many in hnswlib is far
        slower than building anew (2k against 10k photos/s here), so past REBUILD_AFTER the graph is
        rebuilt from the catalog when next needed."""
        if replaced > REBUILD_AFTER or self._hnsw_rebuild:
            self._hnsw, self._hnsw_rebuild = None, True
            return
        index = self.hnsw()
        if index is None:
            return
        for photo_id in removed:
            added.pop(photo_id, None)
        if added:
            index.add(list(added), np.stack(list(added.values())))
        index.remove(removed)
        index.generation = generation
        self._hnsw_dirty = True

    def save(self) -> None:
        """Save each derived file (atomically) that is behind the catalog: changed by this writer's
        commits, caught up or rebuilt after a crash, or missing (a store made by an older version)."""
        if self._dims() is None:
            return
        generation = self._catalog.generation()
        if self._hnsw_dirty or saved_generation(self.home / hnsw.SIDECAR_FILE) != generation:
            self.hnsw().save(self.home, generation)
            self._hnsw_dirty = False
        if self._flat_dirty or saved_generation(self.home / flat.SIDECAR_FILE) != generation:
            self.flat().save(self.home, generation)
            self._flat_dirty = False
        if self._postings_dirty or saved_generation(self.home / postings.SIDECAR_FILE) != generation:
            self.postings().save(self.home, generation)
            self._postings_dirty = False

    def forget(self) -> None:
        """Remove the files and what is in memory (`--rebuild`)."""
        hnsw.remove_files(self.home)
        flat.remove_files(self.home)
        postings.remove_files(self.home)
        self._hnsw = self._flat = self._postings = None
        self._hnsw_dirty = self._flat_dirty = self._postings_dirty = self._hnsw_rebuild = False
