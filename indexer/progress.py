"""Progress while decoding and embedding: a rich bar on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, done: int) -> None: ...
    def workers(self, description: str) -> None: ...  # who does the work, e.g. "3 nodes, 48 CPUs, 2 GPUs"
    def note(self, line: str) -> None: ...  # one line about the run before it starts (what is decoded again, and why)
    def finish(self) -> None: ...


class QuietProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def workers(self, description: str) -> None:
        pass

    def note(self, line: str) -> None:
        pass

    def finish(self) -> None:
        pass


class PlainProgress:
    """One line every `every` seconds (and at the end): for logs and pipes."""

    def __init__(self, stream: TextIO, every: float = 5.0):
        self.stream = stream
        self.every = every
        self.total = self.done = 0
        self.started = self.last = 0.0
        self.on = ""
        self.shown = -1  # the count of the last line printed, so the end does not repeat it

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self.started = self.last = time.monotonic()
        print(f"indexing {total:,} file{'' if total == 1 else 's'}", file=self.stream, flush=True)

    def advance(self, done: int) -> None:
        self.done += done
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line(now)

    def workers(self, description: str) -> None:
        self.on = f" on {description}"

    def note(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def _line(self, now: float) -> None:
        self.shown = self.done
        rate = self.done / max(now - self.started, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        print(f"{self.done:,}/{self.total:,} files, {rate:.1f} images/s{self.on}, ETA {eta:.0f} s", file=self.stream,
              flush=True)

    def finish(self) -> None:
        if self.total and self.done != self.shown:
            self._line(time.monotonic())


class RichProgress:
    """A bar with files done, images/s and ETA."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeRemainingColumn)

        self._bar = Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                             TextColumn("{task.fields[rate]}"),
                             TimeRemainingColumn(), console=Console(file=stream), transient=False)
        self._stream = stream
        self._task = None
        self._started = 0.0
        self._on = ""

    def start(self, total: int) -> None:
        self._bar.start()
        self._started = time.monotonic()
        self._task = self._bar.add_task("indexing", total=total, rate="")

    def advance(self, done: int) -> None:
        self._bar.advance(self._task, done)
        finished = self._bar.tasks[0].completed
        rate = finished / max(time.monotonic() - self._started, 1e-9)
        self._bar.update(self._task, rate=f"{rate:.1f} images/s{self._on}")

    def workers(self, description: str) -> None:
        self._on = f" on {description}"

    def note(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def finish(self) -> None:
        if self._task is not None:
            self._bar.stop()


def make_progress(stream: TextIO = sys.stderr) -> Progress:
    """The bar on a terminal, plain lines when the stream is a file or a pipe."""
    return RichProgress(stream) if stream.isatty() else PlainProgress(stream)
