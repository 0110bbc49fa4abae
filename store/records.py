"""What the store reads and writes, as plain values: no SQL and no SQLAlchemy here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from devsearch.model.people import PeopleSignal
from devsearch.store.kept_classes import TopClasses

BOUND_MODEL = "model"  # the meta key naming the fingerprint the catalog was bound to (model.json must agree)
REBUILDING = "rebuilding"  # the meta key `--rebuild` sets, until its first commit: why the store is empty


def sort_date(taken: datetime | None, mtime: float) -> datetime:
    """The date the date filters and the date sort use (the reader's SQL says the same): the capture time,
    else the file's modification time in local time. OverflowError/OSError for an mtime no calendar holds."""
    return taken if taken is not None else datetime.fromtimestamp(mtime)


@dataclass(frozen=True)
class PhotoRecord:
    """One catalog row, without its vector."""

    id: int
    path: str
    size: int
    mtime: float
    content_hash: str
    width: int | None
    height: int | None
    taken: datetime | None
    status: str  # indexed | failed | deleted
    error: str | None
    indexed_at: datetime | None


@dataclass(frozen=True)
class KnownFile:
    """What the indexer compares a file on disk with."""

    id: int
    size: int
    mtime: float
    status: str
    model: str | None = None  # fingerprint of the model that embedded it
    has_people: bool = False  # whether the people detectors looked at it (model/people.py)
    damaged: bool = False  # indexed, but its stored vector is not a finite unit vector: embed it again


@dataclass(frozen=True)
class EmbeddedPhoto:
    path: str
    size: int
    mtime: float
    content_hash: str
    width: int
    height: int
    taken: datetime | None
    vector: np.ndarray  # float32 (dims,), unit
    top_classes: TopClasses | None = None  # None without a classifier; the writer stores it as a blob
    people: PeopleSignal | None = None  # None where the people detectors did not run


@dataclass(frozen=True)
class Reprojected:
    """An indexed photo's new vector, computed from its kept top classes (no decoding)."""

    id: int
    vector: np.ndarray  # float32 (dims,), unit


@dataclass(frozen=True)
class FailedPhoto:
    """A file that could not be decoded; it keeps no content hash, so it is never a move source."""

    path: str
    size: int
    mtime: float
    error: str


@dataclass(frozen=True)
class Move:
    """The file at `path` has the content of photo `source_id`, whose own path is gone."""

    source_id: int
    path: str
    size: int
    mtime: float


@dataclass
class ChangeSet:
    """What one commit writes, in one transaction."""

    embedded: list[EmbeddedPhoto] = field(default_factory=list)
    failed: list[FailedPhoto] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)  # ids whose files are gone
    reprojected: list[Reprojected] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.embedded or self.failed or self.moves or self.deleted or self.reprojected)


def prefix_range(folder: str) -> tuple[str, str, str]:
    """(folder, lowest, above-highest) such that paths inside folder are in [lowest, above-highest)."""
    exact = folder.rstrip("/") or "/"
    prefix = exact if exact.endswith("/") else exact + "/"
    return exact, prefix, prefix[:-1] + chr(ord("/") + 1)


def failure_reason(error: str) -> str:
    """The reason an error message starts with ("corrupt or truncated image: ..." -> its first part)."""
    return error.split(":", 1)[0]
