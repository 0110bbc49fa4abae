"""What the derived files read from the catalog, as a protocol: the catalog (store/reader.py's
CatalogReader) provides it, and this subpackage never imports the catalog, so the derived files sit
below it (scripts/deps_graph.py)."""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from devsearch.core.notices import warn


def say_damaged_vectors(home: Path, ids: Sequence[int]) -> None:
    """The one line about stored vectors found damaged (the photos are left out of answers)."""
    more = f" (and {len(ids) - 1} more)" if len(ids) > 1 else ""
    warn(f"the stored vector of photo {int(ids[0])}{more} in the catalog in {home} is damaged (not a finite unit "
         "vector): left out of answers until `devsearch index` embeds it again from its file",
         once=False)  # said once per reader (a long-lived one is renewed at each generation)


class CatalogRows(Protocol):
    def snapshot(self) -> AbstractContextManager[None]:
        """One read transaction, so the generation and the rows read inside it agree."""

    def generation(self) -> int: ...

    def store_id(self) -> str: ...

    def last_id(self) -> int:
        """The largest photo id the catalog has given: no derived file of it names a larger one."""

    def indexed_vectors(self, dims: int) -> tuple[np.ndarray, np.ndarray]: ...

    def indexed_vectors_of(self, ids: Sequence[int], dims: int) -> dict[int, np.ndarray]: ...

    def damaged_vectors(self) -> set[int]:
        """The photos whose stored vector reads so far found damaged (left out of the vectors they gave)."""

    def changed_since(self, generation: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def indexed_classes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def classes_changed_since(self, generation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...


class Lock(Protocol):
    """The store's writer lock (store/lock.py), as the keeper takes it to save a repaired file."""

    def acquire(self) -> None: ...

    def release(self) -> None: ...
