"""Atomic file replacement for the store's files: a reader sees the old file or the new one, never half."""
from __future__ import annotations

import json
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


def write_atomically(target: Path, write: Callable[[str], object]) -> None:
    """write(temp_path) fills a temp file beside target; it is then fsynced and renamed over target.

    The temp file keeps target's suffix (np.save and hnswlib write to the exact path given) and
    starts with a dot; it is removed when writing fails.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=target.suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def saved_generation(sidecar: Path) -> int | None:
    """The store generation a derived file's sidecar JSON records, None when it has no usable one."""
    try:
        return int(json.loads(Path(sidecar).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
