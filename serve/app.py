"""The ASGI app: routes, error responses, the freshness watcher, and the security guard around it all."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from devsearch.core.errors import DevsearchError, InputError, StoreError, UnknownWordError
from devsearch.serve import api, media
from devsearch.serve.api import NamesJSON
from devsearch.serve.freshness import keep_fresh
from devsearch.serve.library import PhotoGone, PhotoNotFound
from devsearch.serve.security import Guard, require_token_off_loopback
from devsearch.serve.services import Services

STATIC = Path(__file__).parent / "static"


async def _page(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})


def _error(status: int, message: str, **extra: object) -> NamesJSON:
    return NamesJSON({"error": message, **extra}, status_code=status)


async def _http_error(request: Request, exc: HTTPException) -> NamesJSON:
    return _error(exc.status_code, exc.detail)


def parameter_name(field: str) -> str:
    """How a message names an input the layers below call field: as the page labels it (Folder,
    From, To), since the page shows these messages as they come."""
    return {"under": "Folder", "after": "From", "before": "To"}.get(field, field)


async def _devsearch_error(request: Request, exc: DevsearchError) -> NamesJSON:
    if isinstance(exc, UnknownWordError):
        return _error(400, str(exc), word=exc.word, suggestions=exc.suggestions)
    message = exc.worded(parameter_name) if isinstance(exc, InputError) else str(exc)
    return _error(503 if isinstance(exc, StoreError) else 400, message)


async def _not_found(request: Request, exc: PhotoNotFound) -> NamesJSON:
    if isinstance(exc, PhotoGone):
        return _error(404, exc.reason, missing=True)
    return _error(404, "no such photo: it is not indexed, or its file is gone or outside the indexed folders")


def create_app(services: Services, *, host: str = "127.0.0.1", token: str | None = None) -> Guard:
    """The whole server as one ASGI app; a bind other machines can reach needs a token (UsageError)."""
    require_token_off_loopback(host, token)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        watcher = asyncio.create_task(keep_fresh(services.library, services.lanes))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    app = Starlette(
        routes=[Route("/", _page), *api.ROUTES, *media.ROUTES,
                Mount("/static", StaticFiles(directory=STATIC), name="static")],
        exception_handlers={HTTPException: _http_error, DevsearchError: _devsearch_error, PhotoNotFound: _not_found},
        lifespan=lifespan,
    )
    app.state.services = services
    return Guard(app, token=token)
