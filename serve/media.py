"""Photos and thumbnails by catalog id: `GET /photo/{id}` (the original bytes), `GET /thumb/{id}`.

The id is looked up in the catalog and the file re-checked (serve/files.py) on every request; no
path ever comes from the request. Thumbnails are `?size=grid` (default, for the result grid) or
`?size=large` (the photo view), JPEG, with an ETag from the content hash.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from PIL import Image
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from devsearch.serve.files import ServedFile, open_photo
from devsearch.serve.library import PhotoGone
from devsearch.serve.services import Services
from devsearch.serve.thumbnails import SIZES, Thumbnails, Unreadable
from devsearch.store.records import PhotoRecord

CHUNK = 256 * 1024
THUMB_CACHE = "private, max-age=300"
T = TypeVar("T")


def _thumbnail(thumbnails: Thumbnails, record: PhotoRecord, roots: list[str], size: int):
    with open_photo(record.path, roots) as served:
        return thumbnails.get(record, served, size)


async def thumb(request: Request) -> Response:
    services: Services = request.app.state.services
    size_name = request.query_params.get("size", "grid")
    if size_name not in SIZES:
        raise HTTPException(400, f"size={size_name!r}: choose {' or '.join(SIZES)}")
    lanes = services.lanes
    record, roots = await lanes.run(lanes.search, services.library.located, request.path_params["id"])
    try:
        made = await noticing_gone(services, record, _thumbnail, services.thumbnails, record, roots, SIZES[size_name])
    except Unreadable:
        raise HTTPException(404, f"photo {record.id} cannot be decoded into a thumbnail") from None
    headers = {"etag": made.etag, "cache-control": THUMB_CACHE}
    if request.headers.get("if-none-match") == made.etag:
        return Response(status_code=304, headers=headers)
    return Response(made.jpeg, media_type="image/jpeg", headers=headers)


async def noticing_gone(services: Services, record: PhotoRecord, function: Callable[..., T], *args: object) -> T:
    """function(*args) on the pictures lane; when it finds the photo's file gone, the library leaves the
    photo out of its lists from then on (the error goes on to the caller: a 404 with the reason)."""
    lanes = services.lanes
    try:
        return await lanes.run(lanes.pictures, function, *args)
    except PhotoGone:
        await lanes.run(lanes.search, services.library.notice_missing, record.id)
        raise


def _media_type(served: ServedFile) -> str:
    """The content type Pillow reads from the file's own header (not from its name)."""
    try:
        with Image.open(served.handle) as image:
            kind = image.get_format_mimetype()
    except (OSError, SyntaxError, ValueError):
        kind = None
    served.handle.seek(0)
    return kind or "application/octet-stream"


def _chunks(served: ServedFile) -> Iterator[bytes]:
    with served:
        while chunk := served.handle.read(CHUNK):
            yield chunk


def _open_original(record: PhotoRecord, roots: list[str]) -> tuple[ServedFile, str]:
    served = open_photo(record.path, roots)
    return served, _media_type(served)


async def photo(request: Request) -> Response:
    services: Services = request.app.state.services
    lanes = services.lanes
    record, roots = await lanes.run(lanes.search, services.library.located, request.path_params["id"])
    served, media_type = await noticing_gone(services, record, _open_original, record, roots)
    return StreamingResponse(_chunks(served), media_type=media_type,
                             headers={"content-length": str(served.stat.st_size), "cache-control": "private, no-cache"})


ROUTES = [
    Route("/thumb/{id:int}", thumb),
    Route("/photo/{id:int}", photo),
]
