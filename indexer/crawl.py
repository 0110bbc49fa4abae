"""Walk the photo trees: which files are photos, with their size and mtime, and what was skipped why.

Symbolic links are not followed unless asked; when they are, every folder is entered once (by
device and inode), so a link loop ends. Hidden files and folders (".name") are not photos.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UsageError
from core.formats import HEIF_EXTENSIONS, PHOTO_EXTENSIONS
from core.photo import HEIF_SUPPORTED

SKIP_HEIF = "HEIC/HEIF needs pillow-heif: pip install 'devsearch[heif]'"
SKIP_SYMLINK = "symbolic link not followed (use --follow-symlinks)"
SKIP_UNREADABLE = "folder not readable"
SKIP_NAME = "file name is not valid UTF-8"


@dataclass(frozen=True)
class FileStat:
    path: str  # absolute
    size: int
    mtime: float


@dataclass
class Crawl:
    files: list[FileStat] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    unreadable: list[str] = field(default_factory=list)  # folders whose known photos must not count as gone
    stopped: bool = False  # stop() said so before every folder was read: files is not the whole tree


def resolve_roots(paths: list[Path]) -> list[str]:
    """Absolute, symlink-free roots; a root inside another given root is dropped (crawled once)."""
    resolved = []
    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"no such file or directory: {path}")
        resolved.append(os.path.realpath(path))
    unique = sorted(set(resolved))
    return [r for r in unique if not any(r != o and r.startswith(o.rstrip("/") + "/") for o in unique)]


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

    def add_file(self, path: str, stat: os.stat_result) -> None:
        kind = _photo_kind(path)
        if kind is None:
            return
        if kind == "heif" and not self.heif:
            self.crawl.skipped[SKIP_HEIF] += 1
            return
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            self.crawl.skipped[SKIP_NAME] += 1
            return
        self.crawl.files.append(FileStat(path, stat.st_size, stat.st_mtime))

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
                self.crawl.skipped[SKIP_UNREADABLE] += 1
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
                    self.crawl.skipped[SKIP_SYMLINK] += 1
                return
            if entry.is_dir():
                stat = entry.stat()
                key = (stat.st_dev, stat.st_ino)
                if key not in self.visited:
                    self.visited.add(key)
                    stack.append(entry.path)
            elif entry.is_file():
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
