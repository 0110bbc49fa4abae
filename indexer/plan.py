"""Diff a crawl against the catalog: what is unchanged, what to decode, what moved, what is gone.

Only size and mtime are compared for files the catalog knows, so an unchanged tree costs one query
and a dictionary lookup per file. A file to (re)decode is first checked for a move only when some
photo whose vector it could take over has the same size; only then is its content hashed here.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devsearch.indexer.crawl import Crawl, FileStat
from devsearch.indexer.decode import Work
from devsearch.store.catalog import Store
from devsearch.store.records import KnownFile, Move, PhotoRecord
from devsearch.store.hashing import content_hash


@dataclass
class Plan:
    work: list[Work] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    unchanged: int = 0


def _inside(path: str, folders: list[str]) -> bool:
    return any(path.startswith(folder.rstrip("/") + "/") for folder in folders)


class _MoveFinder:
    """Finds, for a file to decode, a photo with the same content whose own file is gone."""

    def __init__(self, store: Store, roots: list[str], gone: dict[str, KnownFile]):
        self.store = store
        self.roots = roots
        self.gone = gone
        self.sizes = store.movable_sizes(roots) | {k.size for k in gone.values() if k.status == "indexed"}
        self.claimed: set[int] = set()

    def source_for(self, file: FileStat) -> PhotoRecord | None:
        if file.size not in self.sizes:
            return None
        try:
            digest = content_hash(Path(file.path))
        except OSError:
            return None  # the decoder will record why it cannot be read
        for record in self.store.find_by_hash(digest, with_vector=True):
            if record.id not in self.claimed and self._is_free(record):
                self.claimed.add(record.id)
                return record
        return None

    def _is_free(self, record: PhotoRecord) -> bool:
        if record.status == "deleted":
            return True
        if record.status != "indexed":
            return False
        if record.path in self.gone:
            return True
        inside_roots = record.path in self.roots or _inside(record.path, self.roots)
        return not inside_roots and not os.path.lexists(record.path)


def plan_changes(crawl: Crawl, store: Store, roots: list[str], fingerprint: str | None = None,
                 stop: Callable[[], bool] = lambda: False, people: bool = False) -> Plan | None:
    """Compare what is on disk under roots with what the catalog knows about them; None when stop
    said so while files were being hashed to find moves (half a plan would be wrong).

    fingerprint: the model indexing now; an unchanged photo another model embedded (a store moving
    to a new model, see indexer/service.py) is embedded again, as is one whose stored vector is damaged.
    people: the people detectors run, so an unchanged photo they never looked at is decoded again
    (kind "people")."""
    known: dict[str, KnownFile] = {}
    for root in roots:
        known.update(store.files_under(root))
    plan = Plan()
    candidates: list[tuple[FileStat, KnownFile | None]] = []
    for file in crawl.files:
        row = known.pop(file.path, None)
        if row is not None and row.status != "deleted" and row.size == file.size and row.mtime == file.mtime:
            if row.status == "indexed" and (row.damaged or fingerprint is not None and row.model != fingerprint):
                plan.work.append(Work(file.path, file.size, file.mtime, "updated"))
            elif row.status == "indexed" and people and not row.has_people:
                plan.work.append(Work(file.path, file.size, file.mtime, "people"))
            else:
                plan.unchanged += 1
        else:
            candidates.append((file, row))
    # what is left in `known` was not seen on disk
    gone = {path: row for path, row in known.items()
            if row.status != "deleted" and not _inside(path, crawl.unreadable)}
    claimed: set[int] = set()
    if candidates:
        moves = _MoveFinder(store, roots, gone)
        claimed = moves.claimed
        for file, row in candidates:
            if stop():
                return None
            source = moves.source_for(file)
            if source is not None:
                plan.moves.append(Move(source.id, file.path, file.size, file.mtime))
            else:
                kind = "updated" if row is not None and row.status != "deleted" else "new"
                plan.work.append(Work(file.path, file.size, file.mtime, kind))
    plan.deleted = [row.id for row in gone.values() if row.id not in claimed]
    return plan
