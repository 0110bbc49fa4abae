"""`index --watch`: after the first pass, a new pass over the roots each time something under them changes.

watchfiles (inotify on Linux) reports changes in debounced batches; each batch that touches anything but the
store itself triggers one incremental pass, so an added, changed, moved or deleted photo is committed within
a few seconds. A pass re-walks the roots (file metadata only: unchanged photos are not decoded), which keeps
moves between folders and deleted folders exact without a second bookkeeping of what is where."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from devsearch.core.files import is_under

DEBOUNCE_MS = 800  # the longest a batch gathers changes (it ends sooner, after 50 ms with none)


def relevant_changes(changed: Iterable[str], ignored: Iterable[Path]) -> list[str]:
    """The changed paths that are not under an ignored folder (the store's own files, which every pass
    rewrites, would otherwise start the next pass)."""
    skip = [str(folder) for folder in ignored]
    return sorted(path for path in changed if not is_under(path, skip))


def changes_under(roots: Iterable[Path], ignored: Iterable[Path],
                  stop: threading.Event | None = None) -> Iterator[list[str]]:
    """Batches of changed paths under roots, until KeyboardInterrupt (SIGINT's default handler) or stop is set:
    then the iterator ends."""
    from watchfiles import watch

    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # its "KeyboardInterrupt caught" is not for the user
    ignored = [Path(os.path.realpath(folder)) for folder in ignored]
    for batch in watch(*roots, debounce=DEBOUNCE_MS, stop_event=stop, raise_interrupt=False):
        changed = relevant_changes((path for _, path in batch), ignored)
        if changed:
            yield changed
