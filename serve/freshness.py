"""Notice what `devsearch index` commits while the server runs, and switch to it without a restart.

The indexer bumps the store generation with every batch it commits. Once a second the server
compares it with the generation its searcher answers for. It opens the next searcher when the
generation has stopped moving (the run has finished, or paused), or after PATIENCE_S of a long run,
so a run of thousands of batches costs a few reloads, not one per batch. The next searcher is built
beside the current one, which answers until the switch.
"""
from __future__ import annotations

import asyncio
import logging
import time

from devsearch.core.errors import DevsearchError
from devsearch.serve.lanes import Lanes
from devsearch.serve.library import Library

POLL_S = 1.0
PATIENCE_S = 30.0

log = logging.getLogger("devsearch.serve")


async def keep_fresh(library: Library, lanes: Lanes, poll_s: float = POLL_S, patience_s: float = PATIENCE_S) -> None:
    """Run until cancelled: reload the searcher after each settled change of the store."""
    seen, behind_since, last_error = library.generation, None, None
    while True:
        await asyncio.sleep(poll_s)
        now_at = await lanes.run(lanes.search, library.store_generation)
        if now_at == library.generation:
            seen, behind_since = now_at, None
            continue
        behind_since = behind_since or time.monotonic()
        settled = now_at == seen
        seen = now_at
        if not settled and time.monotonic() - behind_since < patience_s:
            continue
        try:
            upcoming = await asyncio.to_thread(library.open_next)
        except DevsearchError as err:  # e.g. a --rebuild in progress: keep answering from what we have
            if str(err) != last_error:
                log.warning("devsearch serve: keeping the current searcher: %s", err)
            last_error = str(err)
            continue
        await lanes.run(lanes.search, library.swap, upcoming)
        behind_since = last_error = None
