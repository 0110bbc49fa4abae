"""Atomic file replacement (store files, bundles, caches): a reader sees the old file or the new one, never half."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, write: Callable[[str], object], *, mode: int | None = None) -> None:
    """write(temp_path) fills a temp file beside target; it is then fsynced and renamed over target.

    The temp file starts with a dot and keeps all of target's suffixes (np.save, hnswlib and Keras
    write to the exact path given, and Keras insists on ".weights.h5"); it is removed when writing
    fails. mode: the file's permissions (default: private to the user, as mkstemp makes it).
    """
    target = Path(target)
    suffix = "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:len(target.name) - len(suffix)]}-",
                               suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)

