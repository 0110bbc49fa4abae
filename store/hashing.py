"""A content hash cheap enough to take for every new file: size + first and last MiB, sha256.

It recognises a photo that was moved or renamed (same bytes, new path) without reading whole files;
a change that keeps the size and touches only the middle of a file over 2 MiB goes unnoticed, which
is why a changed mtime always re-embeds and the hash is used only to find moves.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from devsearch.core.files import open_regular

CHUNK = 1 << 20


def content_hash(path: Path) -> str:
    """Hex sha256 over the size, the first MiB and the last MiB of the file (a regular file only:
    NotRegularFileError, an OSError, for anything else)."""
    with open_regular(path) as handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        digest = hashlib.sha256(str(size).encode() + b"\0")
        if size <= 2 * CHUNK:
            digest.update(handle.read())
        else:
            digest.update(handle.read(CHUNK))
            handle.seek(size - CHUNK)
            digest.update(handle.read(CHUNK))
    return digest.hexdigest()
