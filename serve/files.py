"""Open the file behind a catalog id, checked again at the moment it is served.

The request names an id, never a path. The catalog's path is resolved (symbolic links followed)
and must still lie under a folder that was indexed; the file is opened without following a final
link and without blocking (a FIFO put in a photo's place cannot hang a worker), and must be a
regular file. Anything else is PhotoNotFound, which the server answers with 404; a file no longer there is
PhotoGone (moved or deleted since indexing), which the server also remembers (Library.notice_missing).
"""
from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from devsearch.core.files import is_under
from devsearch.serve.library import PhotoGone, PhotoNotFound

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass
class ServedFile:
    """An open photo file; a context manager that closes it."""

    path: str  # resolved
    handle: BinaryIO
    stat: os.stat_result

    def __enter__(self) -> "ServedFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def open_photo(path: str, roots: Sequence[str]) -> ServedFile:
    """The photo file at a catalog path, open for reading; PhotoNotFound unless it is still servable."""
    real = os.path.realpath(path)
    if not is_under(real, roots):
        raise PhotoNotFound(path)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        raise PhotoGone(path) from None
    except OSError:
        raise PhotoNotFound(path) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise PhotoNotFound(path)
    return ServedFile(real, os.fdopen(fd, "rb"), info)
