"""The derived-file keeper: the HNSW graph and the flat matrix, kept in step with the catalog.

Both are copies of the catalog's embeddings, tagged with the store generation they reflect. A saved
file is loaded, then caught up with the rows changed since it was saved, or rebuilt from the
catalog when it is missing, damaged or ahead of it; the writer saves each one that is behind.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.files import saved_generation
from store import flat, hnsw
from store.flat import FlatVectors
from store.hnsw import HnswIndex
from store.reader import CatalogReader


class DerivedFiles:
    """The HNSW graph (loaded once, then caught up in memory) and the flat matrix (reloaded, then
    caught up) whenever the catalog has moved on, for the store in home."""

    def __init__(self, home: Path, catalog: CatalogReader, dims: Callable[[], int | None]):
        self.home = home
        self._catalog = catalog
        self._dims = dims  # the bound model's dimensions, None while the store is unbound
        self._hnsw: HnswIndex | None = None
        self._hnsw_dirty = False
        self._flat: FlatVectors | None = None
        self._flat_dirty = False

    def hnsw(self) -> HnswIndex | None:
        """The HNSW index, loaded once, then caught up in bulk with whatever commits moved the catalog on."""
        if self._hnsw is None or self._hnsw.generation != self._catalog.generation():
            self._hnsw, current = self._current(HnswIndex, self._hnsw)
            self._hnsw_dirty = self._hnsw_dirty or not current
        return self._hnsw

    def flat(self) -> FlatVectors | None:
        """The flat matrix, reloaded when a commit has moved the catalog on since it was read."""
        if self._flat is None or self._flat.generation != self._catalog.generation():
            self._flat, current = self._current(FlatVectors)
            self._flat_dirty = not current
        return self._flat

    def _current(self, kind: type[HnswIndex] | type[FlatVectors], derived: HnswIndex | FlatVectors | None = None):
        """(derived as of the catalog's generation, whether it already was that): the one in memory
        when given, else the saved file, caught up; rebuilt when missing or ahead of the catalog."""
        dims = self._dims()
        if dims is None:
            return None, True
        with self._catalog.snapshot():
            generation = self._catalog.generation()
            derived = derived if derived is not None else kind.load(self.home, dims)
            current = derived is not None and derived.generation == generation
            if derived is None or derived.generation > generation:
                derived = kind.build(dims, *self._catalog.indexed_vectors(dims))
            elif not current:
                derived.catch_up(*self._catalog.changed_since(derived.generation, dims))
        derived.generation = generation
        return derived, current

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

    def forget(self) -> None:
        """Remove the files and what is in memory (`--rebuild`)."""
        hnsw.remove_files(self.home)
        flat.remove_files(self.home)
        self._hnsw = self._flat = None
        self._hnsw_dirty = self._flat_dirty = False
