"""The derived-file keeper: files made from the catalog (the HNSW graph, the flat matrix, the class
postings) kept in step with it.

SQLite is the truth; a derived file is trusted only as far as it can be checked. Each one is saved
as data files under fresh names plus a sidecar `<kind>.json`, renamed into place last, which records
- the identity of the catalog that wrote it (a random store id made with the catalog) and the
  store generation it reflects: a file beside a recreated catalog is never taken for current;
- each data file's size and checksum (XXH3-64; CRC-32 in stores saved before it), and for the roles
  a kind reads in parts (the class postings) a checksum per 4 MiB block: a reader checks a whole
  file at load, or each block before it first reads it, so a damaged byte is caught before it
  answers (store/derived/checksummed.py). XXH3 runs at memory speed (about 20 GB/s here, against 2.5 GB/s for
  zlib's CRC-32). The writer checks every byte of every file before it trusts one.
A file that fails a check is rebuilt from the catalog, with one line on stderr. A file that is only
behind (a crash before it was saved) is caught up from the rows changed since its generation.
K-NN answers are checked once more: each hit's score must be what the catalog's own vector for that
photo gives (answer()), so a file can never name the wrong photo.

Any derived file uses this mechanism by providing the DerivedFile interface below.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Protocol, TypeVar

import numpy as np

from devsearch.core.errors import StoreError
from devsearch.core.files import read_regular_text, write_atomically
from devsearch.core.notices import warn
from devsearch.core.vectors import unit_rows
from devsearch.store.derived.bonus import Bonus
from devsearch.store.derived.checksummed import BLOCKS, CHECKSUM, DamagedData, SavedFile, checksums, mapped, matches
from devsearch.store.derived.flat import FlatVectors
from devsearch.store.derived.hnsw import HnswIndex
from devsearch.store.derived.postings import Postings
from devsearch.store.derived.rows import CatalogRows, Lock

SIDECAR_FORMAT = 2
SCORE_TOLERANCE = 1e-4  # float32 dot products of the same unit vectors agree far closer than this


class DerivedFile(Protocol):
    """What the keeper needs of a kind of derived file."""

    KIND: ClassVar[str]  # "<KIND>.json" names the data files "<KIND>-<generation>-<token><suffix>"
    LABEL: ClassVar[str]  # for messages
    ROLES: ClassVar[dict[str, str]]  # data file role -> file-name suffix
    LEGACY_FILES: ClassVar[tuple[str, ...]]  # names an older version used; removed on save
    SAVED_FROM_CATALOG: ClassVar[bool]  # True: each save is built anew from the catalog; False: the
    # verified saved copy is caught up (for a file too costly to build at every save)
    BLOCK_ROLES: ClassVar[tuple[str, ...]]  # roles a reader checks block by block as it reads them
    # (SavedFile.check before each read); the others are checked whole at load
    generation: int

    @classmethod
    def build(cls, catalog: CatalogRows, dims: int) -> "DerivedFile": ...

    @classmethod
    def load(cls, files: dict[str, SavedFile], dims: int, sidecar: dict) -> "DerivedFile": ...

    def fault(self, last_id: int) -> str | None: ...  # what is wrong with a loaded file's content (cheap
    # semantic checks: a file rewritten with matching checksums), None when it looks sound; last_id:
    # the catalog's largest photo id

    def catch_up(self, catalog: CatalogRows, dims: int) -> None: ...

    def write(self, role: str, path: str) -> None: ...

    def describe(self) -> dict: ...


KINDS: tuple[type[DerivedFile], ...] = (HnswIndex, FlatVectors, Postings)
T = TypeVar("T")


class _Rejected(Exception):
    """A saved derived file that must not be used; the message says why (None: missing, say nothing)."""

    def __init__(self, reason: str | None):
        super().__init__(reason)
        self.reason = reason


def _sidecar_path(home: Path, kind: type[DerivedFile]) -> Path:
    return home / f"{kind.KIND}.json"


class DerivedFiles:
    """Every kind of derived file of the store in home, each loaded (verified) on first use."""

    def __init__(self, home: Path, catalog: CatalogRows, dims: Callable[[], int | None], *,
                 repair_lock: Callable[[], Lock] | None):
        self.home = home
        self._catalog = catalog
        self._dims = dims  # the bound model's dimensions, None while the store is unbound
        # a reader saves what it had to rebuild under the writer lock this makes (None: the writer,
        # which saves at its end anyway)
        self._repair_lock = repair_lock
        self._current: dict[type[DerivedFile], DerivedFile] = {}

    # ---- reading ----------------------------------------------------------------------------
    def current(self, kind: type[DerivedFile]) -> DerivedFile | None:
        """The derived file as of the catalog's generation: in memory, else the verified saved file
        caught up, else built from the catalog; None while no model is bound."""
        dims = self._dims()
        if dims is None:
            return None
        derived = self._current.get(kind)
        with self._catalog.snapshot():  # one snapshot for the generation and the rows read
            generation = self._catalog.generation()
            if derived is not None and derived.generation == generation:
                return derived
            if derived is None:
                derived = self._load(kind, dims, self._catalog.store_id())
            rebuilt = derived is None or derived.generation > generation
            if not rebuilt and derived.generation < generation:
                try:
                    derived.catch_up(self._catalog, dims)  # reads every block
                except DamagedData as damage:
                    self._say_rebuilt(kind, f"is damaged ({damage})")
                    rebuilt = True
            if rebuilt:
                derived = kind.build(self._catalog, dims)
            derived.generation = generation
        self._current[kind] = derived
        if rebuilt:
            self._repair(derived)
        return derived

    def _repair(self, rebuilt: DerivedFile) -> None:
        """Save a file a reader had to rebuild, so the next query does not rebuild it again: only
        while no writer runs (a running writer saves it at its end) and where the store is writable."""
        if self._repair_lock is None:
            return
        lock = self._repair_lock()
        try:
            lock.acquire()
        except (StoreError, OSError):
            return
        try:
            with self._catalog.snapshot():
                if self._catalog.generation() != rebuilt.generation:
                    return  # a commit came in between: the next query catches up from the catalog
                store_id = self._catalog.store_id()
            self._write(rebuilt, store_id)
        except OSError:
            pass  # a full disk or a read-only file: this query still answers from memory
        finally:
            lock.release()

    def _load(self, kind: type[DerivedFile], dims: int, store_id: str) -> DerivedFile | None:
        """The saved file if it passes every check, else None (with one line on stderr if it was damaged)."""
        try:
            sidecar, files = self._verified(kind, store_id)
            loaded = kind.load(files, dims, sidecar)
            fault = loaded.fault(self._catalog.last_id())
            if fault is not None:
                raise _Rejected(f"fails a check of its content ({fault})")
            return loaded
        except _Rejected as rejected:
            if rejected.reason:
                self._say_rebuilt(kind, rejected.reason)
            return None
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, MemoryError) as exc:
            self._say_rebuilt(kind, f"cannot be read ({exc})")
            return None

    def _verified(self, kind: type[DerivedFile], store_id: str, *,
                  whole: bool = False) -> tuple[dict, dict[str, SavedFile]]:
        """(sidecar, data files) of the saved file, once its identity and checksums hold; the kind's
        block roles are left to be checked as they are read, unless whole (the writer)."""
        try:
            sidecar = json.loads(read_regular_text(_sidecar_path(self.home, kind)))
        except FileNotFoundError:
            raise _Rejected(None) from None
        except (OSError, ValueError) as exc:
            raise _Rejected(f"has an unreadable description ({exc})") from None
        if not isinstance(sidecar, dict) or not isinstance(sidecar.get("files"), dict):
            raise _Rejected(None if isinstance(sidecar, dict) and "format" not in sidecar  # an older version's
                            else "has a damaged description")
        if sidecar.get("format") != SIDECAR_FORMAT or sidecar.get("store_id") != store_id:
            raise _Rejected("was written for another catalog")
        files = {}
        for role in kind.ROLES:
            entry = sidecar["files"].get(role)
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or "/" in entry["name"]:
                raise _Rejected("has a damaged description")
            path = self.home / entry["name"]
            try:
                data = mapped(path)
            except FileNotFoundError:
                raise _Rejected(f"lacks its file {entry['name']}") from None
            lazy = None if whole or role not in kind.BLOCK_ROLES else SavedFile.lazily_checked(path, data, entry)
            if lazy is None and not matches(data, entry):
                raise _Rejected(f"is damaged ({entry['name']} does not match its checksum)")
            files[role] = lazy or SavedFile(path, data)
        return sidecar, files

    # ---- checked answers --------------------------------------------------------------------
    def answer(self, kind: type[DerivedFile], query: np.ndarray,
               search: Callable[[DerivedFile], list[tuple[int, float]]],
               bonus: Bonus | None = None) -> list[tuple[int, float]]:
        """search(derived file) for a unit query, its hits checked against the catalog's vectors
        (a hit's score is its cosine plus its bonus, when the search adds one).

        A hit whose photo is not indexed, or whose score is not what the catalog's vector gives,
        means the file is wrong: it is rebuilt from the catalog (one line on stderr) and asked again.
        """
        query = unit_rows(np.ravel(query))
        for _ in range(3):  # a commit between the search and the check: search the newer catalog
            derived = self.current(kind)
            if derived is None:
                return []
            hits = search(derived)
            with self._catalog.snapshot():
                if self._catalog.generation() != derived.generation:
                    continue
                vectors = self._catalog.indexed_vectors_of([photo_id for photo_id, _ in hits], self._dims())
            if _hits_agree(query, hits, vectors, bonus):
                return hits
            if not self._catalog.damaged_vectors() & {photo_id for photo_id, _ in hits}:
                self._say_rebuilt(kind, "gave answers the catalog does not bear out")
            # else: it still holds a photo whose catalog vector is damaged since (said once by the reader)
            return search(self._rebuilt(kind))
        return hits

    def read(self, kind: type[DerivedFile], reading: Callable[[DerivedFile], T]) -> T | None:
        """reading(derived file), None while no model is bound. A block found damaged as it is read
        (a kind's block roles) gets the file rebuilt from the catalog, one line on stderr, and read again."""
        derived = self.current(kind)
        if derived is None:
            return None
        try:
            return reading(derived)
        except DamagedData as damage:
            self._say_rebuilt(kind, f"is damaged ({damage})")
            return reading(self._rebuilt(kind))

    def _say_rebuilt(self, kind: type[DerivedFile], why: str) -> None:
        """The one line on stderr when a file is rebuilt from the catalog: which file, and why."""
        warn(f"the {kind.LABEL} in {self.home} {why}: rebuilt it from the catalog")

    def _rebuilt(self, kind: type[DerivedFile]) -> DerivedFile:
        """The kind built anew from the catalog, in use from now on (and saved, by a reader that can)."""
        self._current.pop(kind, None)
        with self._catalog.snapshot():
            rebuilt = kind.build(self._catalog, self._dims())
            rebuilt.generation = self._catalog.generation()
        self._current[kind] = rebuilt
        self._repair(rebuilt)
        return rebuilt

    # ---- writing (the writer only) ----------------------------------------------------------
    def save(self) -> None:
        """Save each kind whose saved file is not that of this catalog and generation, or is damaged."""
        dims = self._dims()
        if dims is None:
            return
        with self._catalog.snapshot():
            generation, store_id = self._catalog.generation(), self._catalog.store_id()
        for kind in KINDS:
            try:
                sidecar, _ = self._verified(kind, store_id, whole=True)
                if sidecar.get("generation") == generation and all(
                        CHECKSUM in entry and (role not in kind.BLOCK_ROLES or BLOCKS in entry)
                        for role, entry in sidecar["files"].items()):
                    continue  # current, with today's checksums (a file saved with older ones is saved anew)
            except (_Rejected, OSError):
                pass
            if kind.SAVED_FROM_CATALOG:
                with self._catalog.snapshot():
                    derived = kind.build(self._catalog, dims)
                    derived.generation = self._catalog.generation()
            else:
                derived = self.current(kind)
            self._write(derived, store_id)

    def _write(self, derived: DerivedFile, store_id: str) -> None:
        """The data files under fresh names, then the sidecar naming them, then older files go."""
        kind = type(derived)
        token = f"{kind.KIND}-{derived.generation}-{secrets.token_hex(4)}"
        files: dict[str, dict] = {}
        try:
            for role, suffix in kind.ROLES.items():
                path = self.home / f"{token}{suffix}"
                files[role] = {"name": path.name}
                write_atomically(path, lambda tmp, role=role: derived.write(role, tmp))
                files[role].update(checksums(path, blocks=role in kind.BLOCK_ROLES))
            sidecar = {"format": SIDECAR_FORMAT, "store_id": store_id, "generation": derived.generation,
                       "files": files, **derived.describe()}
            write_atomically(_sidecar_path(self.home, kind), lambda tmp: Path(tmp).write_text(json.dumps(sidecar)))
        except BaseException:
            for entry in files.values():
                (self.home / entry["name"]).unlink(missing_ok=True)
            raise
        self._remove(kind, keep={entry["name"] for entry in files.values()})

    def _remove(self, kind: type[DerivedFile], keep: set[str] = frozenset()) -> None:
        for path in self.home.glob(f"{kind.KIND}-*"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
        for name in kind.LEGACY_FILES:
            (self.home / name).unlink(missing_ok=True)

    def forget(self) -> None:
        """Remove every derived file, on disk and in memory (`--rebuild`)."""
        for kind in KINDS:
            _sidecar_path(self.home, kind).unlink(missing_ok=True)
            self._remove(kind)
        self._current.clear()


def _hits_agree(query: np.ndarray, hits: list[tuple[int, float]], vectors: dict[int, np.ndarray],
                bonus: Bonus | None) -> bool:
    """Whether every hit is an indexed photo scored as its catalog vector scores (plus its bonus)."""
    if not hits:
        return True
    ids = [photo_id for photo_id, _ in hits]
    if any(photo_id not in vectors for photo_id in ids):
        return False
    extra = bonus.of(ids) if bonus is not None else np.zeros(len(hits), np.float32)
    expected = unit_rows(np.stack([vectors[photo_id] for photo_id in ids])) @ query + extra
    scores = np.array([score for _, score in hits], dtype=np.float64)
    return bool(np.all(np.abs(expected - scores) <= SCORE_TOLERANCE))
