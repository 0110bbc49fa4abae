"""A derived file's data file as a reader holds it: its bytes mapped once, and checked against the
checksums its sidecar records, either whole at load or, for the roles a kind reads in parts, block by
block when a part is first read (store/derived/keeper.py keeps the sidecars).

A word query reads the postings of the classes its words cover (`dog`: 118 of 1000, 47 of the 412
MB at 1M photos), so checking only the blocks it reads costs a tenth of checking the whole file;
the writer still checks every byte of every file before it trusts one.
"""
from __future__ import annotations

import mmap
import zlib
from collections.abc import Callable
from pathlib import Path

import xxhash

from devsearch.core.files import open_regular

CHECKSUM = "xxh3_64"  # what a save records; a sidecar entry names its checksum, so older ones still verify
BLOCKS = "blocks"  # an entry's block checksums: {"bytes": block size, "xxh3_64": [hex, ...]}
BLOCK_BYTES = 1 << 22
_CRC_CHUNK = 1 << 26


class DamagedData(Exception):
    """A block of a lazily checked data file does not match its checksum (the message says which)."""


def mapped(path: Path) -> mmap.mmap | bytes:
    """The file's bytes, mapped read-only (b"" for an empty file); only a regular file is opened."""
    with open_regular(path) as handle:
        if handle.seek(0, 2) == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def _crc32(data: mmap.mmap | bytes) -> int:
    """zlib's CRC-32, fed in chunks so any size works (the checksum of stores saved before XXH3)."""
    view = memoryview(data)
    crc = 0
    for start in range(0, len(view), _CRC_CHUNK):
        crc = zlib.crc32(view[start:start + _CRC_CHUNK], crc)
    view.release()
    return crc


def xxh3_64(data: mmap.mmap | bytes | memoryview) -> str:
    """XXH3-64 (about 20 GB/s here, against 2.5 GB/s for zlib's CRC-32)."""
    return xxhash.xxh3_64_hexdigest(data)


_CHECKSUMS: dict[str, Callable[[mmap.mmap | bytes], int | str]] = {CHECKSUM: xxh3_64, "crc32": _crc32}


def matches(data: mmap.mmap | bytes, entry: dict) -> bool:
    """Whether data has the size and the whole-file checksum (of whichever kind the entry records) of a
    sidecar entry."""
    if len(data) != entry.get("bytes"):
        return False
    kind = next((name for name in _CHECKSUMS if name in entry), None)
    return kind is not None and _CHECKSUMS[kind](data) == entry[kind]


def file_checksum(path: Path) -> str:
    """The checksum a save records for a whole file."""
    return xxh3_64(mapped(path))


def checksums(path: Path, *, blocks: bool = False) -> dict:
    """What a save records of a data file: its size and checksum, and with blocks the checksum of
    each BLOCK_BYTES of it, for a file read in parts (one mapping of the file for both)."""
    data = mapped(path)
    entry: dict = {"bytes": len(data), CHECKSUM: xxh3_64(data)}
    if blocks:
        with memoryview(data) as view:
            entry[BLOCKS] = {"bytes": BLOCK_BYTES, CHECKSUM: [xxh3_64(view[start:start + BLOCK_BYTES])
                                                          for start in range(0, len(view), BLOCK_BYTES)]}
    return entry


class SavedFile:
    """A data file as loaded: its path, and its bytes (mapped, not copied). Checked whole before it
    is handed over, or (blocks given) checked block by block by check() as its parts are read."""

    def __init__(self, path: Path, data: mmap.mmap | bytes, blocks: list[str] | None = None):
        self.path = path
        self.data = data
        self._blocks = blocks  # None: checked whole already
        self._checked: set[int] = set()

    @classmethod
    def lazily_checked(cls, path: Path, data: mmap.mmap | bytes, entry: dict) -> "SavedFile | None":
        """The file to be checked by blocks, when its entry records well-formed block checksums for
        data of its size; else None (check it whole)."""
        blocks = entry.get(BLOCKS)
        if not isinstance(blocks, dict) or blocks.get("bytes") != BLOCK_BYTES or len(data) != entry.get("bytes"):
            return None
        digests = blocks.get(CHECKSUM)
        if not isinstance(digests, list) or len(digests) != -(-len(data) // BLOCK_BYTES):
            return None
        return cls(path, data, digests)

    def check(self, start: int = 0, stop: int | None = None) -> None:
        """Check the bytes [start, stop) (all by default) against their blocks' checksums, each block
        once; DamagedData when one does not match."""
        if self._blocks is None:
            return
        stop = len(self.data) if stop is None else min(stop, len(self.data))
        if stop <= start:
            return
        for block in range(start // BLOCK_BYTES, (stop - 1) // BLOCK_BYTES + 1):
            if block in self._checked:
                continue
            with memoryview(self.data) as view:
                digest = xxh3_64(view[block * BLOCK_BYTES:(block + 1) * BLOCK_BYTES])
            if digest != self._blocks[block]:
                raise DamagedData(f"block {block} of {self.path.name} does not match its checksum")
            self._checked.add(block)
