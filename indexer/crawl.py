"""Walk the photo trees: which files are photos, with their size and mtime, and what was skipped why.

Symbolic links are not followed unless asked; when they are, every folder is entered once (by
device and inode), so a link loop ends. Hidden files and folders (".name") are not photos, nor is
a store's thumbnail cache (a store kept inside the tree it indexes).
"""
from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devsearch.core.errors import UsageError
from devsearch.core.formats import HEIF_EXTENSIONS, PHOTO_EXTENSIONS
from devsearch.core.files import is_under, kind_of
from devsearch.core.photo import HEIF_SUPPORTED
from devsearch.store.layout import is_thumbnail_cache

SKIP_HEIF = "HEIC/HEIF needs pillow-heif: pip install 'devsearch[heif]'"
SKIP_SYMLINK = "symbolic link not followed (use --follow-symlinks)"
SKIP_UNREADABLE = "folder not readable"
SKIP_SPECIAL = "not a regular file"
SKIP_THUMBNAILS = "a devsearch store's thumbnail cache"


@dataclass(frozen=True)
class FileStat:
    path: str  # absolute
    size: int
    mtime: float


@dataclass
class Crawl:
    files: list[FileStat] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    skipped_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), for `status`
    unreadable: list[str] = field(default_factory=list)  # folders whose known photos must not count as gone
    stopped: bool = False  # stop() said so before every folder was read: files is not the whole tree


def resolve_roots(paths: list[Path]) -> list[str]:
    """Absolute, symlink-free roots; a root inside another given root is dropped (crawled once)."""
    resolved = []
    for path in paths:
        try:
            os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise UsageError(f"no such file or directory: {path}") from None
        except OSError as exc:
            raise UsageError(f"cannot index {path}: {exc.strerror}") from None
        resolved.append(os.path.realpath(path))
    unique = sorted(set(resolved))
    return [r for r in unique if not is_under(r, [o for o in unique if o != r])]


def _photo_kind(name: str) -> str | None:
    """'photo', 'heif' or None (not a photo) from the extension."""
    extension = os.path.splitext(name)[1].lower()
    if extension in PHOTO_EXTENSIONS:
        return "photo"
    if extension in HEIF_EXTENSIONS:
        return "heif"
    return None


class _Walker:
    def __init__(self, follow_symlinks: bool, heif_supported: bool, stop: Callable[[], bool]):
        self.follow = follow_symlinks
        self.heif = heif_supported
        self.stop = stop
        self.crawl = Crawl()
        self.visited: set[tuple[int, int]] = set()

    def skip(self, path: str, reason: str) -> None:
        self.crawl.skipped[reason] += 1
        self.crawl.skipped_paths.append((path, reason))

    def add_file(self, path: str, status: os.stat_result) -> None:
        if not stat.S_ISREG(status.st_mode):  # a FIFO, socket or device: never opened
            self.skip(path, f"{SKIP_SPECIAL} ({kind_of(status.st_mode)})")
            return
        kind = _photo_kind(path)
        if kind is None:
            return
        if kind == "heif" and not self.heif:
            self.skip(path, SKIP_HEIF)
            return
        self.crawl.files.append(FileStat(path, status.st_size, status.st_mtime))

    def walk(self, root: str) -> None:
        root_stat = os.stat(root)
        self.visited.add((root_stat.st_dev, root_stat.st_ino))
        stack = [root]
        while stack:
            if self.stop():
                self.crawl.stopped = True
                return
            folder = stack.pop()
            try:
                with os.scandir(folder) as entries:
                    entries = list(entries)
            except OSError:
                self.skip(folder, SKIP_UNREADABLE)
                self.crawl.unreadable.append(folder)
                continue
            for entry in entries:
                self._visit(entry, stack)

    def _visit(self, entry: os.DirEntry, stack: list[str]) -> None:
        if entry.name.startswith("."):
            return
        try:
            if entry.is_symlink() and not self.follow:
                if entry.is_dir() or _photo_kind(entry.name):
                    self.skip(entry.path, SKIP_SYMLINK)
                return
            if entry.is_dir():
                if is_thumbnail_cache(entry.path):
                    self.skip(entry.path, SKIP_THUMBNAILS)
                    return
                status = entry.stat()
                key = (status.st_dev, status.st_ino)
                if key not in self.visited:
                    self.visited.add(key)
                    stack.append(entry.path)
            elif not entry.is_file() or _photo_kind(entry.name):  # special files are recorded, whatever their name
                self.add_file(entry.path, entry.stat())
        except OSError:  # a dangling link, or a file removed while we looked
            return


def crawl(roots: list[str], *, follow_symlinks: bool = False, heif_supported: bool = HEIF_SUPPORTED,
          stop: Callable[[], bool] = lambda: False) -> Crawl:
    """Every photo file under the roots (a root may also be one file), sorted by path.

    stop is asked before each folder (Ctrl-C on a tree of a million files must not wait for the
    whole walk); once it says yes the crawl ends with stopped set.
    """
    walker = _Walker(follow_symlinks, heif_supported, stop)
    for root in roots:
        if walker.crawl.stopped:
            break
        if os.path.isdir(root):
            walker.walk(root)
        else:
            walker.add_file(root, os.stat(root))
    walker.crawl.files.sort(key=lambda f: f.path)
    return walker.crawl
