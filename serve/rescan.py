"""The gallery's Rescan: an incremental `devsearch index` of the indexed folders, in the background.

It runs the indexer's own entry point (indexer.service.index_paths) in a process of its own (spawned,
so the server's threads and any TensorFlow it has loaded are not forked), one run at a time. The
server keeps answering from its searcher meanwhile; the freshness watcher (serve/freshness.py)
switches to what the run commits. Progress comes back over a queue and is read by /api/rescan.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from devsearch.core.errors import DevsearchError
from devsearch.core.settings import Settings
from devsearch.indexer.progress import QuietProgress


@dataclass(frozen=True)
class RescanState:
    """What the page shows of the last or current run."""

    running: bool = False
    phase: str = "idle"  # idle, starting, indexing, done, failed
    done: int = 0  # files decoded and embedded so far
    total: int = 0  # files to decode and embed (new or changed)
    summary: str = ""  # at the end: what changed
    error: str = ""  # at a failure: one line

    def as_dict(self) -> dict:
        return asdict(self)


class _QueueProgress(QuietProgress):
    """The indexer's Progress, its counts sent to the server over a queue (the rest is not shown)."""

    def __init__(self, queue: multiprocessing.Queue):
        self.queue = queue

    def start(self, total: int) -> None:
        self.queue.put(("start", total))

    def advance(self, done: int) -> None:
        self.queue.put(("advance", done))


def _index(roots: list[str], settings: Settings, queue: multiprocessing.Queue) -> None:
    """The child process: one incremental pass over the roots; its outcome as the last message."""
    from devsearch.indexer.service import index_paths
    from devsearch.indexer.summary import format_summary

    try:
        summary = index_paths([Path(root) for root in roots], settings, progress=_QueueProgress(queue))
        queue.put(("done", "; ".join(format_summary(summary)).removeprefix("done: ")))  # as `devsearch index` ends
    except DevsearchError as err:
        queue.put(("failed", str(err)))
    except Exception as err:  # noqa: BLE001 - the page shows one line; the server goes on
        queue.put(("failed", f"the rescan stopped: {type(err).__name__}: {err}"))


class Rescanner:
    """Starts a rescan when none is running and keeps its state for the page."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.state = RescanState()
        self._lock = threading.Lock()
        self._process: multiprocessing.Process | None = None

    def start(self, roots: list[str]) -> RescanState:
        """Start a run over roots unless one is running; the state either way."""
        with self._lock:
            if self.state.running:
                return self.state
            if not roots:
                self.state = RescanState(phase="failed", error="nothing is indexed yet: run devsearch index FOLDER")
                return self.state
            context = multiprocessing.get_context("spawn")
            queue = context.Queue()
            self._process = context.Process(target=_index, args=(roots, self.settings, queue))  # not daemonic: the indexer starts its own workers
            self._process.start()
            self.state = RescanState(running=True, phase="starting")
            threading.Thread(target=self._follow, args=(self._process, queue), daemon=True,
                             name="devsearch-rescan").start()
            return self.state

    def _follow(self, process: multiprocessing.Process, queue: multiprocessing.Queue) -> None:
        """Read the run's messages until it ends (a child that dies without a word is a failure too)."""
        state = self.state
        while True:
            try:
                kind, value = queue.get(timeout=0.5)
            except Exception:  # queue.Empty: is the child still there?
                if process.is_alive():
                    continue
                time.sleep(0.2)
                if queue.empty():
                    state = RescanState(phase="failed", error=f"the rescan stopped (exit code {process.exitcode})")
                    break
                continue
            if kind == "start":
                state = RescanState(running=True, phase="indexing", total=value)
            elif kind == "advance":
                state = RescanState(running=True, phase="indexing", done=state.done + value, total=state.total)
            else:
                state = RescanState(phase=kind, done=state.done, total=state.total,
                                    summary=value if kind == "done" else "", error=value if kind == "failed" else "")
                break
            self.state = state
        process.join()
        self.state = state

    def stop(self) -> None:
        """End a run still going (the server is shutting down); the indexer's commits so far stay."""
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(10)
