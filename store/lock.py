"""One writer per store: an flock on a file in the store's home, holding the writer's pid.

flock is released by the kernel when the process dies (even by kill -9), so a crash never leaves a
stale lock behind; the pid in the file is only there to name the running writer in the message.
"""
from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

from devsearch.core.errors import StoreError, StoreLockedError
from devsearch.core.files import kind_of, read_regular_text

LOCK_FILE = "writer.lock"


def _holder_pid(path: Path) -> str:
    """The pid written by the holder; it may take a moment to appear after it took the lock."""
    for _ in range(20):
        try:
            pid = read_regular_text(path).strip()
        except OSError:
            pid = ""
        if pid:
            return pid
        time.sleep(0.01)
    return "unknown"


def running_writer(home: Path) -> str | None:
    """The pid of the writer that holds the store in home now, None when none does. Read from the lock
    file (emptied on release) and checked alive; no lock is taken, so a writer starting is never refused."""
    try:
        pid = read_regular_text(Path(home) / LOCK_FILE).strip()
    except OSError:
        return None
    if not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return None  # killed (-9) with the lock: the kernel let go of it
    except OSError:
        pass  # alive, another user's
    return pid


class WriterLock:
    """Held from acquire() until release() or the end of the process."""

    def __init__(self, home: Path):
        self.path = Path(home) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise StoreError(f"{self.path} is {kind_of(mode)}, not a lock file: remove it, then run again")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(
                f"another devsearch index (pid {_holder_pid(self.path)}) is writing to {self.path.parent}: "
                "wait for it to finish or stop it, then run again"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:  # a full disk: give the lock back rather than hold it unseen until the process ends
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None  # os.write names no file
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
