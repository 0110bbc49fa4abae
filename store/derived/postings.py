"""The class -> photos posting index: for each ImageNet class, the photos that keep it among their top
classes and its probability there (an inverted index, as a text engine keeps word -> documents).

A query word covers a few classes (`dog`: 118 of 1000), so its mass is read from those classes'
postings only, never from every photo's row. Derived from the catalog's top classes like the
vector files: tagged with the store generation, caught up or rebuilt by the derived-file keeper,
memory-mapped by readers, checked like every derived file (store/derived/keeper.py). Arrays: offsets
(classes + 1) int64, ids int32 and probabilities float32,
grouped by class, ids ascending within a class; and per photo (photos ascending) the length of its
kept probability vector, which turns a dot product of two photos' classes into their cosine.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from devsearch.model.imagenet import NUM_CLASSES
from devsearch.store.derived.npy import npy_view
from devsearch.store.derived.checksummed import DamagedData
from devsearch.store.derived.rows import CatalogRows

_NAMES = ("offsets", "ids", "probabilities", "photos", "norms")
_SLACK = 1e-3  # float32 rounding of probabilities (softmax outputs) and of their sums is far below this
MASS_CACHE = 4


class Postings:
    """Per class, the photos (ids) that have it among their top classes, with its probability."""

    KIND = "postings"
    LABEL = "class postings"
    ROLES = {name: f"-{name}.npy" for name in _NAMES}
    LEGACY_FILES: tuple[str, ...] = ()
    SAVED_FROM_CATALOG = True
    BLOCK_ROLES = ("ids", "probabilities")  # a query reads a few classes' entries: checked as they are read

    def __init__(self, offsets: np.ndarray, ids: np.ndarray, probabilities: np.ndarray, photos: np.ndarray,
                 norms: np.ndarray, generation: int):
        self.offsets = offsets
        self.ids = ids
        self.probabilities = probabilities
        self.photos = photos
        self.norms = norms
        self.generation = generation
        self._masses: OrderedDict[tuple, np.ndarray] = OrderedDict()  # the last MASS_CACHE masses asked for
        self._saved: dict = {}  # role -> store.saved.SavedFile, for a loaded index: checked as read
        self._from_file = False  # loaded from a saved file: its content is checked as it is read
        self._sound: set[int] = set()  # classes whose entries passed those checks

    @classmethod
    def build(cls, catalog: CatalogRows, dims: int) -> "Postings":
        return cls.of_rows(*catalog.indexed_classes())

    @classmethod
    def of_rows(cls, photo_ids: np.ndarray, class_ids: np.ndarray, probabilities: np.ndarray) -> "Postings":
        """From catalog rows: photo ids (N,), their top class ids and probabilities (N, K)."""
        k = class_ids.shape[1] if class_ids.ndim == 2 else 0
        return cls._from_entries(np.asarray(class_ids, np.int64).ravel(), np.repeat(np.asarray(photo_ids, np.int64), k),
                                 np.asarray(probabilities, np.float32).ravel())

    @classmethod
    def _from_entries(cls, classes: np.ndarray, ids: np.ndarray, probabilities: np.ndarray) -> "Postings":
        order = np.lexsort((ids, classes))
        offsets = np.searchsorted(classes[order], np.arange(NUM_CLASSES + 1)).astype(np.int64)
        photos, where = np.unique(ids, return_inverse=True)
        norms = np.sqrt(np.bincount(where, weights=np.square(probabilities, dtype=np.float64), minlength=len(photos)))
        return cls(offsets, ids[order].astype(np.int32), probabilities[order], photos, norms.astype(np.float32), 0)

    @classmethod
    def load(cls, files: dict, dims: int, sidecar: dict) -> "Postings":
        """The saved index, as views of the mapped files; ValueError when its arrays do not fit together."""
        offsets, ids, probabilities, photos, norms = (npy_view(files[name].data) for name in _NAMES)
        if (offsets.shape != (NUM_CLASSES + 1,) or ids.shape != probabilities.shape or ids.shape != (offsets[-1],)
                or photos.shape != norms.shape or ids.dtype != np.int32 or probabilities.dtype != np.float32):
            raise ValueError("its arrays do not fit together")
        loaded = cls(offsets, ids, probabilities, photos, norms, int(sidecar["generation"]))
        loaded._saved = {role: files[role] for role in cls.BLOCK_ROLES}
        loaded._from_file = True
        return loaded

    def fault(self, last_id: int) -> str | None:
        """What makes a loaded index wrong though its checksums match, None when nothing does, in the
        arrays read whole (a few MB at 1M photos): offsets that do not run from 0 upwards, photos not
        ascending or beyond the catalog's ids, a probability vector longer than 1. The entries are
        checked class by class as they are first read (_check): a query reads a tenth of them."""
        offsets, photos, norms = self.offsets, self.photos, self.norms
        if offsets[0] != 0 or np.any(np.diff(offsets) < 0):
            return "its class offsets do not ascend from 0"
        if len(photos) and (photos[0] < 1 or photos[-1] > last_id or np.any(np.diff(photos) <= 0)):
            return "its photos are not the catalog's in ascending order"
        with np.errstate(invalid="ignore"):
            if not np.all((norms >= 0) & (norms <= 1 + _SLACK)):
                return "a photo's probabilities are longer than 1"
        return None

    def _check(self, start: int, end: int) -> None:
        """Check the entries [start, end) of a loaded index against their blocks' checksums before
        they are read, and that they make sense: ids of its photos, probabilities in [0, 1]
        (store.saved.DamagedData if one fails); an index built in memory has none to check."""
        for role, saved in self._saved.items():
            header = len(saved.data) - getattr(self, role).nbytes  # the .npy header before the entries
            saved.check(header + start * 4, header + end * 4)  # int32 ids, float32 probabilities
        if not self._from_file or end <= start:
            return
        ids, probabilities = self.ids[start:end], self.probabilities[start:end]
        if ids.min() < self.photos[0] or ids.max() > self.photos[-1]:
            raise DamagedData("its postings name photos it does not hold")
        with np.errstate(invalid="ignore"):
            if not (probabilities.min() >= 0 and probabilities.max() <= 1 + _SLACK):
                raise DamagedData("a class probability is outside [0, 1]")

    def catch_up(self, catalog: CatalogRows, dims: int) -> None:
        """Apply rows changed since this index's generation: their new top classes, and ids no longer indexed."""
        self.apply_rows(*catalog.classes_changed_since(self.generation))

    def apply_rows(self, photo_ids: np.ndarray, class_ids: np.ndarray, probabilities: np.ndarray,
                   gone: np.ndarray) -> None:
        """Replace the entries of photo_ids by their new top classes, and drop the ids in gone."""
        self._check(0, len(self.ids))  # every entry is read
        changed = np.concatenate([np.asarray(photo_ids, np.int64), np.asarray(gone, np.int64)])
        keep = ~np.isin(self.ids, changed)
        classes = np.repeat(np.arange(NUM_CLASSES), np.diff(self.offsets))[keep]
        fresh = self.of_rows(photo_ids, class_ids, probabilities)
        fresh_classes = np.repeat(np.arange(NUM_CLASSES), np.diff(fresh.offsets))
        merged = self._from_entries(np.concatenate([classes, fresh_classes]),
                                    np.concatenate([np.asarray(self.ids[keep], np.int64), fresh.ids.astype(np.int64)]),
                                    np.concatenate([self.probabilities[keep], fresh.probabilities]))
        self.offsets, self.ids, self.probabilities = merged.offsets, merged.ids, merged.probabilities
        self.photos, self.norms = merged.photos, merged.norms
        self._masses.clear()
        self._saved = {}  # in memory now
        self._sound = set(range(NUM_CLASSES))  # every entry was checked above

    def mass(self, classes: np.ndarray, weights: np.ndarray, *, per_length: bool = False) -> np.ndarray:
        """Per photo id (dense, 0 for photos without these classes), the weighted sum of its probabilities
        on classes; per_length: divided by the length of the photo's probabilities.

        Read-only, and kept for the next MASS_CACHE calls: a long-lived searcher paging through one
        query's results sums it once (a broad word at 1M photos reads tens of millions of postings)."""
        key = (np.asarray(classes, np.int64).tobytes(), np.asarray(weights, np.float32).tobytes(), per_length)
        if key in self._masses:
            self._masses.move_to_end(key)
            return self._masses[key]
        totals = np.zeros(int(self.photos[-1]) + 1 if len(self.photos) else 0, dtype=np.float32)
        for c, weight in zip(np.asarray(classes, np.int64), np.asarray(weights, np.float32)):
            start, end = self.offsets[c], self.offsets[c + 1]
            if c not in self._sound:
                self._check(start, end)
                self._sound.add(int(c))
            np.add.at(totals, self.ids[start:end], self.probabilities[start:end] * weight)  # 2x a fancy-index +=
        if self._from_file and len(totals) and len(classes):
            # a photo's kept probabilities sum to at most 1, so its mass is at most the largest |weight|
            if np.abs(totals).max() > np.abs(np.asarray(weights, np.float32)).max() * (1 + _SLACK) + _SLACK:
                raise DamagedData("a photo's class probabilities sum above 1")
        if per_length:
            lengths = np.ones_like(totals)
            lengths[self.photos] = np.maximum(self.norms, 1e-12)
            totals /= lengths
        totals.flags.writeable = False
        self._masses[key] = totals
        if len(self._masses) > MASS_CACHE:
            self._masses.popitem(last=False)
        return totals

    def write(self, role: str, path: str) -> None:
        np.save(path, np.ascontiguousarray(getattr(self, role)))

    def describe(self) -> dict:
        return {"photos": len(self.photos)}
