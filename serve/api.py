"""The JSON API the page uses (and anyone may): search, similar, photo details, labels, status.

    GET  /api/search?q=&n=&offset=&in=&after=&before=&min_score=&sort=relevance|date
    GET  /api/similar/{id}?n=&offset=&...      photos like an indexed one, without it
    POST /api/similar?n=&offset=&...           photos like an uploaded one (multipart, field `image`)
    GET  /api/photos?n=&offset=&in=&after=&before=   the library (or what the filters allow), newest first
    GET  /api/photos/{id}                      what the catalog knows about one photo
    GET  /api/photos/{id}/labels               what the model sees in it (ImageNet classes, nearest words)
    GET  /api/folders?prefix=                  folders to suggest for what the Folder field holds so far
    GET  /api/rescan                           the generation being served and the state of the last rescan
    POST /api/rescan                           start an incremental index of the indexed folders (one at a time)
    GET  /api/status                           counts, failures by reason, roots, model, last run (+ shown_home, shown_roots)

A result list is {"results": [{"rank", "score", "match", "id", "path", "shown_path", "width", "height",
"taken", "thumb", "preview", "photo", ...}], "offset", "n", "more"}, plus whatever else the engine's results
carry (the raw parts, why a photo matched in plain words), matches first; score and min_score are
the calibrated 0-1 scale (model/calibration.py); offset + n is at most MAX_DEPTH. The library listing is {"results":
[photo, ...], "offset", "n", "total", "more"}, each photo as /api/photos/{id} gives it, without
rank or score (nothing was ranked), newest first (EXIF time, else the file's mtime: `date` and
`dated_by`), paged as deep as it goes; its first page also gives `years`, the years it spans, newest
first. `in` is a folder inside an indexed one, absolute or relative to an indexed folder. Errors are {"error": message} with 400 (bad query or parameter), 404 (no such photo),
413 (upload too large), 415 (not a photo) or 503 (the store cannot be read).

File names are given twice. `path` (and a photo's `name` and `folder`) is exact: a name that is not
valid UTF-8 keeps each byte that is not as a surrogate escape, "\udce9" for 0xE9, as the CLI's
`--json` does (Python: `os.fsencode(json.loads(text)["path"])` is the file's name). `shown_path` is
for people: control characters, bidi overrides and those bytes shown as escapes (`\x1b`, `\u202e`,
`\xe9`), as the CLI shows them; the page shows only that.
"""
from __future__ import annotations

import math
import os
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devsearch.core.errors import UsageError
from devsearch.core.safe_text import exact_json, visible
from devsearch.search.filters import Filters, make_filters
from devsearch.search.query_parser import parse_query
from devsearch.search.results import SearchResult
from devsearch.serve.files import open_photo
from devsearch.serve.folders import resolve_folder, suggest_folders
from devsearch.serve.library import MAX_DEPTH, Page, sort_date
from devsearch.serve.services import Services
from devsearch.serve.uploads import check_photo, read_upload
from devsearch.store.records import PhotoRecord

DEFAULT_N = 60
MAX_N = 200
SORTS = ("relevance", "date")


class NamesJSON(JSONResponse):
    """A JSON response that carries file names exactly, whatever their bytes (core/safe_text.exact_json)."""

    def render(self, content: object) -> bytes:
        return exact_json(content).encode("utf-8")


def _services(request: Request) -> Services:
    return request.app.state.services


def _int(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.query_params.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number") from None
    if value < low or (high is not None and value > high):
        raise UsageError(f"{name}={value} is out of range: give {low} to {high}" if high is not None
                         else f"{name}={value} is out of range: give {low} or more")
    return value


async def _filters(request: Request) -> Filters:
    """in, after and before of a request."""
    params = request.query_params
    folder = None
    if params.get("in"):
        services = _services(request)
        roots = await services.lanes.run(services.lanes.search, services.library.roots)
        folder = await services.lanes.run(services.lanes.pictures, resolve_folder, params["in"], roots)
    return make_filters(folder, params.get("after") or None, params.get("before") or None)


async def _page(request: Request) -> Page:
    """n, offset, in, after, before, min_score and sort of a search request."""
    params = request.query_params
    n = _int(request, "n", DEFAULT_N, 1, MAX_N)
    offset = _int(request, "offset", 0, 0, MAX_DEPTH - n)
    sort = params.get("sort") or "relevance"
    if sort not in SORTS:
        raise UsageError(f"sort={sort!r}: choose relevance or date")
    min_score = None
    if params.get("min_score"):
        try:
            min_score = float(params["min_score"])
        except ValueError:
            min_score = math.nan
        if math.isnan(min_score):
            raise UsageError(f"min_score={params['min_score']!r} is not a number")
        if not 0.0 <= min_score <= 1.0:
            raise UsageError(f"min_score={min_score:g} is off the scale: give a score from 0 to 1")
    return Page(n=n, offset=offset, filters=await _filters(request), min_score=min_score, sort=sort)


def _urls(photo_id: int) -> dict:
    """Where the page fetches a photo: its grid thumbnail, its large preview, its original."""
    return {"thumb": f"/thumb/{photo_id}", "preview": f"/thumb/{photo_id}?size=large", "photo": f"/photo/{photo_id}"}


def result_json(result: SearchResult) -> dict:
    """One result as the API gives it: the engine's own fields plus the photo's id and URLs."""
    return {**result.as_dict(), "shown_path": visible(result.path), "id": result.id, **_urls(result.id)}


def photo_json(record: PhotoRecord) -> dict:
    """What the catalog knows about one photo, and its URLs (no score: nothing was ranked). `date` is
    the one the library sorts and the date filters go by, `dated_by` says which: "taken" (the capture
    time) or "file" (the file's modification time, for a photo without one)."""
    return {
        "date": sort_date(record).isoformat(timespec="seconds"), "dated_by": "taken" if record.taken else "file",
        "id": record.id, "path": record.path, "shown_path": visible(record.path), "name": os.path.basename(record.path),
        "folder": os.path.dirname(record.path), "bytes": record.size, "width": record.width,
        "height": record.height, "taken": record.taken.isoformat() if record.taken else None,
        "modified": datetime.fromtimestamp(record.mtime).isoformat(timespec="seconds"),
        "indexed_at": record.indexed_at.isoformat() if record.indexed_at else None, **_urls(record.id),
    }


def _results(results: list[SearchResult], page: Page, **extra: object) -> NamesJSON:
    more = len(results) == page.n and page.offset + page.n < MAX_DEPTH
    return NamesJSON({**extra, "offset": page.offset, "n": page.n, "more": more,
                         "results": [result_json(r) for r in results]})


async def search(request: Request) -> NamesJSON:
    services = _services(request)
    query = request.query_params.get("q", "")
    terms = parse_query(query, files=False)
    page = await _page(request)
    results = await services.lanes.run(services.lanes.search, services.library.search, terms, page)
    return _results(results, page, query=query)


async def similar(request: Request) -> NamesJSON:
    services = _services(request)
    photo_id = request.path_params["id"]
    page = await _page(request)
    results = await services.lanes.run(services.lanes.search, services.library.similar, photo_id, page)
    return _results(results, page, similar_to=photo_id)


async def similar_upload(request: Request) -> NamesJSON:
    services = _services(request)
    page = await _page(request)
    data = await read_upload(request)
    key = await services.lanes.run(services.lanes.pictures, services.examples.key, data)  # 32 MB: tens of ms
    evidence = services.examples.get(key)
    if evidence is None:
        await services.lanes.run(services.lanes.pictures, check_photo, data)
        evidence = await services.lanes.run(services.lanes.model, services.image_model.embed, data,
                                            services.library.model)
        services.examples.put(key, evidence)
    results = await services.lanes.run(services.lanes.search, services.library.like, *evidence, page)
    return _results(results, page, example=key[:16])


async def photos(request: Request) -> NamesJSON:
    services = _services(request)
    n = _int(request, "n", DEFAULT_N, 1, MAX_N)
    offset = _int(request, "offset", 0, 0)
    page = Page(n=n, offset=offset, filters=await _filters(request))
    records, total = await services.lanes.run(services.lanes.search, services.library.browse, page)
    if offset > total:
        raise UsageError(f"offset={offset} is past the end: {total} photos to browse")
    years = await services.lanes.run(services.lanes.search, services.library.years, page.filters) if not offset else None
    return NamesJSON({"offset": offset, "n": n, "total": total, "more": offset + n < total, "years": years,
                         "results": [photo_json(record) for record in records]})


async def photo(request: Request) -> NamesJSON:
    services = _services(request)
    record = await services.lanes.run(services.lanes.search, services.library.photo, request.path_params["id"])
    return NamesJSON(photo_json(record))


async def labels(request: Request) -> NamesJSON:
    services = _services(request)
    library, lanes = services.library, services.lanes
    record, roots = await lanes.run(lanes.search, library.located, request.path_params["id"])
    with open_photo(record.path, roots) as served:  # re-checked, as a served file is
        path = served.path
    description = await lanes.run(lanes.model, services.image_model.describe, path, library.model)
    return NamesJSON({"id": record.id, "imagenet": description["imagenet"], "words": description["words"]})


async def folders(request: Request) -> NamesJSON:
    services = _services(request)
    roots = await services.lanes.run(services.lanes.search, services.library.roots)
    found = await services.lanes.run(services.lanes.pictures, suggest_folders, request.query_params.get("prefix", ""), roots)
    return NamesJSON({"folders": found, "shown": [visible(folder) for folder in found]})


def _rescan_json(services: Services) -> NamesJSON:
    return NamesJSON({"generation": services.library.generation, **services.rescanner.state.as_dict()})


async def rescan_state(request: Request) -> NamesJSON:
    return _rescan_json(_services(request))


async def rescan(request: Request) -> NamesJSON:
    services = _services(request)
    roots = await services.lanes.run(services.lanes.search, services.library.indexed_roots)
    services.rescanner.start(roots)
    return _rescan_json(services)


async def status(request: Request) -> NamesJSON:
    services = _services(request)
    report = await services.lanes.run(services.lanes.search, services.library.status)
    return NamesJSON({**report, "shown_home": visible(report["home"]), "shown_roots": [visible(root) for root in report["roots"]]})


ROUTES = [
    Route("/api/search", search),
    Route("/api/similar/{id:int}", similar),
    Route("/api/similar", similar_upload, methods=["POST"]),
    Route("/api/photos", photos),
    Route("/api/photos/{id:int}", photo),
    Route("/api/photos/{id:int}/labels", labels),
    Route("/api/folders", folders),
    Route("/api/status", status),
    Route("/api/rescan", rescan_state),
    Route("/api/rescan", rescan, methods=["POST"]),
]
