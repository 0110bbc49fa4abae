"""Where the server's blocking work runs, so the event loop only routes and writes responses.

- search: one thread, because a Searcher (an sqlite connection, the HNSW graph) is not thread-safe;
  a warm search takes about a millisecond, so one lane answers hundreds per second.
- model: one thread for the network (loaded on first need; a pass takes tens of milliseconds).
- pictures: one thread per core for thumbnails (Pillow releases the GIL while it decodes and scales).
"""
from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Lanes:
    def __init__(self) -> None:
        self.search = ThreadPoolExecutor(1, thread_name_prefix="devsearch-search")
        self.model = ThreadPoolExecutor(1, thread_name_prefix="devsearch-model")
        self.pictures = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="devsearch-pictures")

    @staticmethod
    async def run(lane: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        """function(*args) on lane, awaited."""
        return await asyncio.get_running_loop().run_in_executor(lane, functools.partial(function, *args))

    def shutdown(self) -> None:
        for lane in (self.search, self.model, self.pictures):
            lane.shutdown(wait=True, cancel_futures=True)
