"""Thumbnails: EXIF-upright JPEGs, decoded at reduced size, cached on disk under the store.

The cache is keyed by the photo's content hash, so a moved or renamed photo keeps its thumbnail
and an edited one gets a new one; a file whose size or mtime no longer match its catalog row is
hashed again now. Files live in `<home>/thumbnails/<size>/<2 hex>/<hash>.jpg`, written atomically,
and may be deleted at any time (they are made again on demand). Where they cannot be written (a
read-only store), the latest thumbnails made are kept in memory instead, up to MEMORY_BYTES.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from devsearch.core.files import write_atomically
from devsearch.core.photo import load_thumbnail
from devsearch.serve.files import ServedFile
from devsearch.store.hashing import content_hash
from devsearch.store.layout import THUMBNAILS_FOLDER
from devsearch.store.records import PhotoRecord

SIZES = {"grid": 480, "large": 1600}  # longest side in pixels: a grid tile at 2x, the photo view
QUALITY = 82
_MTIME_TOLERANCE = 1e-6
MEMORY_BYTES = 64 * 1024 * 1024


class Unreadable(Exception):
    """The photo file exists but cannot be decoded into a thumbnail."""


@dataclass(frozen=True)
class Thumbnail:
    jpeg: bytes
    etag: str


class Thumbnails:
    def __init__(self, home: Path, memory_bytes: int = MEMORY_BYTES):
        self.folder = Path(home) / THUMBNAILS_FOLDER
        self._memory: OrderedDict[Path, bytes] = OrderedDict()  # what could not be written, newest last
        self._memory_bytes = memory_bytes
        self._lock = threading.Lock()  # get runs on several picture threads at once

    def _file(self, key: str, size: int) -> Path:
        return self.folder / str(size) / key[:2] / f"{key}.jpg"

    def get(self, record: PhotoRecord, photo: ServedFile, size: int) -> Thumbnail:
        """The cached thumbnail of photo, made (and cached) when missing; Unreadable when it cannot be."""
        unchanged = photo.stat.st_size == record.size and abs(photo.stat.st_mtime - record.mtime) < _MTIME_TOLERANCE
        key = record.content_hash if unchanged else content_hash(Path(photo.path))
        etag = f'"{key[:20]}-{size}"'
        cached = self._file(key, size)
        try:
            return Thumbnail(cached.read_bytes(), etag)
        except OSError:  # not made yet (or the cache cannot be read: made again)
            pass
        with self._lock:
            kept = self._memory.get(cached)
        if kept is not None:
            return Thumbnail(kept, etag)
        image = load_thumbnail(photo.handle, size)
        if image is None:
            raise Unreadable(photo.path)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=QUALITY)
        self._keep(cached, out.getvalue())
        return Thumbnail(out.getvalue(), etag)

    def _keep(self, cached: Path, jpeg: bytes) -> None:
        """Cache a thumbnail on disk; in memory when the disk refuses (a read-only store, a full disk)."""
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(cached, lambda tmp: Path(tmp).write_bytes(jpeg))
            return
        except OSError:
            pass
        with self._lock:
            self._memory[cached] = jpeg
            total = sum(map(len, self._memory.values()))
            while total > self._memory_bytes and len(self._memory) > 1:
                total -= len(self._memory.popitem(last=False)[1])
