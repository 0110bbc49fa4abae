"""Safe file access: atomic replacement (a reader sees the old file or the new one, never half), and
opening only regular files for reading (a FIFO named x.jpg would otherwise block its reader forever)."""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class NotRegularFileError(OSError):
    """A FIFO, socket, device or directory where a file's bytes were wanted; its strerror is the reason."""


def kind_of(mode: int) -> str:
    """What a stat mode is, in words ("a regular file", "a FIFO", ...)."""
    return next((name for test, name in _KINDS if test(mode)), "a regular file" if stat.S_ISREG(mode) else "a special file")


def _refuse_special(path: str | os.PathLike, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(errno.EINVAL, f"not a regular file ({kind_of(mode)})", os.fsdecode(path))


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """The file open for binary reading, when it is a regular file (symbolic links are followed).

    It is opened non-blocking, so opening a FIFO returns at once, and fstat of the open descriptor
    decides (no window for a swap between a check and the open); anything but a regular file is a
    NotRegularFileError. Reads then block as usual.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:  # a socket cannot be opened at all (ENXIO): say what it is, if it is one
        _refuse_special(path, os.stat(path).st_mode)
        raise
    try:
        _refuse_special(path, os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stale_temp_files(folder: Path, stem: str) -> list[Path]:
    """The temp files write_atomically left in folder when it was killed mid-write, for targets named
    stem plus suffixes or stem-... (`flat` for flat.json and flat-3-ab12-ids.npy): `.<stem>-*`."""
    return [path for path in Path(folder).glob(f".{stem}-*") if path.is_file()]


def out_of_space(folder: str | os.PathLike) -> bool:
    """Whether folder's file system has no block left that this process may write (root may use the
    blocks reserved for it)."""
    try:
        usage = os.statvfs(folder)
    except OSError:
        return False
    return (usage.f_bfree if os.geteuid() == 0 else usage.f_bavail) == 0


def _short_write(target: Path) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))


def write_atomically(target: Path, write: Callable[[str], object], *, mode: int | None = None) -> None:
    """write(temp_path) fills a temp file beside target; it is then fsynced and renamed over target.

    The temp file starts with a dot and keeps all of target's suffixes (np.save, hnswlib and Keras
    write to the exact path given, and Keras insists on ".weights.h5"); it is removed when writing
    fails. A write that ends with the disk full is taken as cut short (ENOSPC): libraries writing
    through C stdio or C++ streams may not say so. mode: the file's permissions (default: private to
    the user, as mkstemp makes it).
    """
    target = Path(target)
    suffix = "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:len(target.name) - len(suffix)]}-",
                               suffix=suffix)
    os.close(fd)
    try:
        try:
            write(tmp)
        except OSError as exc:  # numpy's C-level write loses errno: "1001 requested and 496 written"
            if exc.errno is None and out_of_space(target.parent):
                raise _short_write(target) from None
            raise
        if out_of_space(target.parent):  # hnswlib's C++ stream stops at a full disk and says nothing
            raise _short_write(target)
        if mode is not None:
            os.chmod(tmp, mode)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)



def read_regular_text(path: str | os.PathLike) -> str:
    """The UTF-8 text of a regular file (open_regular's checks: a FIFO is refused, never waited on)."""
    with open_regular(path) as handle:
        return handle.read().decode("utf-8")


def is_under(path: str, folders: Sequence[str]) -> bool:
    """Whether a path is one of folders or inside one (compared as given: resolve both first when
    links matter)."""
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)
