"""No silent waits: a step that may take seconds says what it is doing on stderr while it runs.

A step still running after DELAY_S shows a spinner with its seconds on a terminal, or one line
when stderr is a file or a pipe; a step that ends sooner says nothing, so a quick command's stderr
stays empty. It writes to its own copy of stderr's descriptor, so it is heard even while TensorFlow's
native start-up chatter is muted (model/backend.native_stderr_muted points descriptor 2 elsewhere).
A step inside another says nothing: the outer one already speaks for both.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DELAY_S = 1.0
FRAMES = "|/-\\"
_active = threading.Event()


@contextmanager
def step(message: str, *, at_once: bool = False) -> Iterator[None]:
    """Say `message` (e.g. "loading the network") while the block runs, if it runs over DELAY_S;
    at_once: from its start (a step known to take seconds, such as a one-time preparation)."""
    try:
        descriptor = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # no real stderr (a test runner's capture): stay quiet
        descriptor = None
    if descriptor is None or _active.is_set():
        yield
        return
    done = threading.Event()
    speaker = threading.Thread(target=_speak, args=(message, descriptor, done, 0.0 if at_once else DELAY_S),
                               name="devsearch-step", daemon=True)
    _active.set()
    speaker.start()
    try:
        yield
    finally:
        done.set()
        speaker.join()
        _active.clear()
        os.close(descriptor)


def _speak(message: str, descriptor: int, done: threading.Event, delay: float) -> None:
    started = time.monotonic()
    if delay and done.wait(delay):
        return
    if not os.isatty(descriptor):
        _write(descriptor, f"devsearch: {message} ...\n")
        return
    frame = 0
    while not done.wait(0.1):
        _write(descriptor, f"\r{FRAMES[frame % len(FRAMES)]} {message} ({time.monotonic() - started:.0f} s)\x1b[K")
        frame += 1
    _write(descriptor, "\r\x1b[K")  # the spinner leaves no trace


def _write(descriptor: int, text: str) -> None:
    try:
        os.write(descriptor, text.encode("utf-8", "replace"))
    except OSError:  # the reader went away: nothing to tell
        pass
