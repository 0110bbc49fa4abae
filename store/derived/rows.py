"""What the derived files read from the catalog, as a protocol: the catalog (store/reader.py's
CatalogReader) provides it, and this subpackage never imports the catalog, so the derived files sit
below it (scripts/deps_graph.py)."""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np


class CatalogRows(Protocol):
    def snapshot(self) -> AbstractContextManager[None]:
        """One read transaction, so the generation and the rows read inside it agree."""

    def generation(self) -> int: ...

    def store_id(self) -> str: ...

    def indexed_vectors(self, dims: int) -> tuple[np.ndarray, np.ndarray]: ...

    def indexed_vectors_of(self, ids: Sequence[int], dims: int) -> dict[int, np.ndarray]: ...

    def changed_since(self, generation: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def indexed_classes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def classes_changed_since(self, generation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...


class Lock(Protocol):
    """The store's writer lock (store/lock.py), as the keeper takes it to save a repaired file."""

    def acquire(self) -> None: ...

    def release(self) -> None: ...
