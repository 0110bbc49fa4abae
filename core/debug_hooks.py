"""Debug hooks: environment variables the test suite sets to make a rare failure happen on demand.

They are read on the indexer's hot path, so they are all here, in one place, where a reader can see
what a run may be asked to do. None of them is for normal use.

- DEVSEARCH_DEBUG_CRASH_ON=NAME: a decode worker given a file of this name dies by SIGSEGV, as on a
  decoder crash (the indexer must lose only that file).
- DEVSEARCH_DEBUG_HANG_ON=NAME: a decode worker given a file of this name never returns, as on a
  file system that stopped answering (the decode timeout must end it).
- DEVSEARCH_DEBUG_BATCH_DELAY=SECONDS: the indexer sleeps this long after each network batch, so a
  test can interrupt a run mid-way.

DEVSEARCH_DEBUG itself (tracebacks and libraries' start-up logging) is a user setting:
core/settings.debug_requested.
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

CRASH_ON = "DEVSEARCH_DEBUG_CRASH_ON"
HANG_ON = "DEVSEARCH_DEBUG_HANG_ON"
BATCH_DELAY = "DEVSEARCH_DEBUG_BATCH_DELAY"


def crash_or_hang_on(path: str) -> None:
    """In a decode worker, about to decode path: die or hang if a test asked for it on this file name."""
    name = Path(path).name
    if os.environ.get(CRASH_ON) == name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if os.environ.get(HANG_ON) == name:
        threading.Event().wait()


def batch_delay() -> float:
    """Seconds to sleep after each network batch (0: none)."""
    return float(os.environ.get(BATCH_DELAY) or 0)
