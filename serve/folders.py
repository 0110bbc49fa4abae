"""The Folder field of the gallery: a folder given relative to an indexed one (as a person thinks of
it: `trip/2020`) or absolute, and the subfolders to suggest while it is typed.

Only folders under the indexed roots are ever looked at; suggestions list one level of folders
(hidden ones left out) under the folder typed so far.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

from devsearch.core.errors import UsageError
from devsearch.core.files import is_under

MAX_SUGGESTIONS = 30


def resolve_folder(raw: str, roots: Sequence[str]) -> str:
    """The absolute folder meant by raw: absolute and inside a root, or relative to a root (the first
    root holding it). UsageError, worded for people, otherwise."""
    if "\0" in raw:
        raise UsageError("a folder name cannot hold a NUL byte")
    text = os.path.expanduser(raw.strip())
    candidates = [text] if os.path.isabs(text) else [os.path.join(root, text) for root in roots]
    inside = [path for path in candidates if is_under(os.path.realpath(path), roots)]
    for path in inside:
        if os.path.isdir(path):
            return os.path.normpath(path)
    if not inside:
        raise UsageError(f"the folder {raw} is not inside an indexed folder ({', '.join(roots)})")
    raise UsageError(f"the folder {raw}: no such folder inside the indexed folders ({', '.join(roots)})")


def suggest_folders(typed: str, roots: Sequence[str], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Folders to offer for what has been typed, written the way it was typed (relative or absolute):
    the subfolders of the folder typed so far whose names start with the last part; with nothing
    typed, the indexed folders and their subfolders."""
    text = os.path.expanduser(typed)
    if not text:
        found = list(roots)
        for root in roots:
            found += [os.path.join(root, name) for name in _subfolders(root)]
        return found[:limit]
    parent, start = os.path.split(text)
    bases = [parent] if os.path.isabs(text) else [os.path.join(root, parent) for root in roots]
    found: list[str] = []
    for base in bases:
        if not is_under(os.path.realpath(base), roots) and not (os.path.isabs(text) and _above_a_root(base, roots)):
            continue
        for name in _subfolders(base):
            if name.lower().startswith(start.lower()):
                shown = os.path.join(parent, name)
                if shown not in found and is_under(os.path.realpath(os.path.join(base, name)), roots):
                    found.append(shown)
    if os.path.isabs(text):
        found += [root for root in roots if root.startswith(text) and root not in found]
    return sorted(found)[:limit]


def _above_a_root(folder: str, roots: Sequence[str]) -> bool:
    """Whether an absolute folder holds an indexed one (so typing /home/me leads to /home/me/photos)."""
    return any(is_under(root, [os.path.realpath(folder)]) for root in roots)


def _subfolders(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
    except OSError:
        return []
