"""The collection as the server sees it: one long-lived searcher, renewed when `devsearch index` commits.

This is the only module of serve/ that touches the search engine and the store, so a change there
is a change here. A Searcher is not thread-safe: every method runs on the search lane (one thread,
serve/lanes.py), except `open_next`, which builds the next searcher on a connection of its own
while the current one keeps answering.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from devsearch.core.settings import Settings
from devsearch.model.resolver import ResolvedModel
from devsearch.search.engine import Searcher, open_searcher
from devsearch.search.filters import Filters
from devsearch.search.query_parser import Term
from devsearch.search.results import SearchResult
from devsearch.store.kept_classes import TopClasses
from devsearch.store.records import PhotoRecord
from devsearch.store.records import sort_date as photo_sort_date

MAX_ID = 2 ** 63 - 1  # SQLite's largest integer: no catalog id lies beyond it
MAX_DEPTH = 2000  # offset + n: how deep a search's result list may be paged (browsing has no limit)
DATE_SORT_POOL = 1000  # sort=date orders the matches among the best this many by date


class PhotoNotFound(LookupError):
    """No indexed photo has this id (never indexed, failed, or deleted since)."""


class PhotoGone(PhotoNotFound):
    """The photo is indexed but its file is no longer where it was: moved or deleted since indexing."""

    reason = "moved or deleted since indexing; run devsearch index"


@dataclass(frozen=True)
class Page:
    """Which slice of a ranking (or of the library, newest first) to return, among the photos the
    filters allow; min_score (the match cut-off, a calibrated score) and sort apply to rankings only."""

    n: int = 60
    offset: int = 0
    filters: Filters = Filters()
    min_score: float | None = None
    sort: str = "relevance"  # or "date": the matches among the best DATE_SORT_POOL, newest first, then the rest


def sort_date(record: PhotoRecord) -> datetime:
    """The date filters and the date sort use (store/records.sort_date) of a catalog row."""
    return photo_sort_date(record.taken, record.mtime)


class Library:
    """The searcher in use plus the catalog reads the pages need (browsing the library among them)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        upcoming = self.open_next()
        self.searcher, self.generation = upcoming.searcher, upcoming.generation
        self._orders: dict[Filters, np.ndarray] = {Filters(): upcoming.by_date}  # browse orders of this searcher
        self._opened_on = upcoming.opened_on  # the catalog's identity and roots when this searcher was opened
        self.missing: set[int] = set()  # indexed photos whose files were found gone since this searcher opened

    def close(self) -> None:
        self.searcher.close()

    # ---- searches ----------------------------------------------------------------------------
    def search(self, terms: Sequence[Term], page: Page) -> list[SearchResult]:
        """A page of the photos nearest to parsed word terms (UnknownWordError for a word with no vector)."""
        return self._page(lambda depth: self.searcher.terms(terms, depth, filters=page.filters,
                                                            min_score=page.min_score), page)

    def similar(self, photo_id: int, page: Page) -> list[SearchResult]:
        """A page of the photos nearest to an indexed one, without it or other copies of it."""
        record = self.photo(photo_id)
        return self._page(lambda depth: self.searcher.similar_to_indexed(record, depth, page.filters,
                                                                         min_score=page.min_score), page)

    def like(self, vector: np.ndarray, top: TopClasses | None, page: Page) -> list[SearchResult]:
        """A page of the photos that show what an uploaded photo shows (its unit vector and top classes)."""
        return self._page(lambda depth: self.searcher.like(vector, top, depth, filters=page.filters,
                                                           min_score=page.min_score), page)

    def _page(self, ranking: Callable[[int], list[SearchResult]], page: Page) -> list[SearchResult]:
        """The page's slice of ranking(depth), the best `depth` results (matches first, then the related
        photos); ranks count from the list's top. sort=date orders the matches by date, newest first,
        and keeps the related photos after them in their order."""
        if page.sort != "date":
            return self._present(ranking(page.offset + page.n + len(self.missing)))[page.offset:page.offset + page.n]
        ranked = self._present(ranking(DATE_SORT_POOL))
        when = {record.id: sort_date(record) for record in self.searcher.records([r.id for r in ranked if r.match])}
        matches = sorted((r for r in ranked if r.match), key=lambda r: when[r.id], reverse=True)
        ranked = matches + [r for r in ranked if not r.match]
        return [replace(r, rank=page.offset + i) for i, r in enumerate(ranked[page.offset:page.offset + page.n], 1)]

    def _present(self, ranked: list[SearchResult]) -> list[SearchResult]:
        """A ranking without the photos found gone (their files moved or deleted since indexing)."""
        return [r for r in ranked if r.id not in self.missing] if self.missing else ranked

    def notice_missing(self, photo_id: int) -> None:
        """Leave a photo out of every list from now on: its file was found gone (until an index run
        drops it from the catalog, or its file is back when the next generation is served)."""
        self.missing.add(photo_id)

    # ---- browsing ----------------------------------------------------------------------------
    def browse(self, page: Page) -> tuple[list[PhotoRecord], int]:
        """A page of the photos the filters allow, newest first (EXIF time, else mtime), and how many
        there are; no depth limit. The order is sorted once per store generation, then sliced."""
        order = self._order(page.filters)
        ids = order[page.offset:page.offset + page.n].tolist()
        return [r for r in self.searcher.records(ids) if r.status == "indexed"], len(order)

    def years(self, filters: Filters) -> list[int]:
        """The years the photos the filters allow span, newest first (by the date the library sorts by)."""
        order = self._order(filters)
        if not len(order):
            return []
        ends = self.searcher.records([int(order[0]), int(order[-1])])
        if not ends:
            return []
        newest, oldest = max(sort_date(r) for r in ends).year, min(sort_date(r) for r in ends).year
        return list(range(newest, oldest - 1, -1))

    def _order(self, filters: Filters) -> np.ndarray:
        """The ids browse pages through: the whole library's date order, kept with the filtered view
        asked for last (paging one view costs one filter query)."""
        if filters not in self._orders:
            whole = self._orders[Filters()]  # read by open_next, off the search lane
            self._orders = {Filters(): whole}
            if filters.active:
                self._orders[filters] = whole[np.isin(whole, self.searcher.allowed_by(filters))]
        order = self._orders[filters]
        if self.missing:
            order = order[~np.isin(order, np.fromiter(self.missing, dtype=order.dtype))]
        return order

    # ---- photos ------------------------------------------------------------------------------
    def photo(self, photo_id: int) -> PhotoRecord:
        """The catalog row of an indexed photo; PhotoNotFound otherwise (an id past any SQLite integer too)."""
        if not 0 <= photo_id <= MAX_ID:
            raise PhotoNotFound(photo_id)
        found = self.searcher.records([photo_id])
        if not found or found[0].status != "indexed":
            raise PhotoNotFound(photo_id)
        return found[0]

    def located(self, photo_id: int) -> tuple[PhotoRecord, list[str]]:
        """An indexed photo's row and the roots its file must be under (one trip to the search lane).

        Until the library switches to a store rebuilt since its searcher was opened (`index --rebuild`
        marks every row deleted and takes a new identity), the photos of the generation it answered for
        stay servable from their files under the roots of then: a page showing them keeps its
        thumbnails and photos (a photo indexed again by the rebuild takes its old id back)."""
        store_id, roots_then = self._opened_on
        if self.searcher.store_id() == store_id:
            return self.photo(photo_id), self.roots()
        found = self.searcher.records([photo_id]) if 0 <= photo_id <= MAX_ID else []
        if not found or found[0].status not in ("indexed", "deleted"):
            raise PhotoNotFound(photo_id)
        return found[0], sorted(set(self.roots()) | set(roots_then))

    @property
    def home(self) -> Path:
        """The store directory (absolute)."""
        return self.searcher.home

    def status(self) -> dict:
        """What the open store holds (`devsearch status --json`), and the generation being served."""
        return {**self.searcher.status(), "serving_generation": self.generation}

    def indexed_roots(self) -> list[str]:
        """The indexed folders as they were given to `devsearch index` (what a rescan indexes again)."""
        return self.searcher.roots()

    def roots(self) -> list[str]:
        """The indexed folders, symbolic links resolved (what a served file must be under)."""
        return [os.path.realpath(root) for root in self.searcher.roots()]

    # ---- the model -----------------------------------------------------------------------------
    @property
    def model(self) -> ResolvedModel:
        """The store's model (its network is loaded on first use, by the model lane)."""
        return self.searcher.model

    # ---- freshness -----------------------------------------------------------------------------
    def store_generation(self) -> int:
        """The store's generation now (the searcher answers as of self.generation)."""
        return self.searcher.generation()

    def open_next(self) -> "NextSearcher":
        """A new searcher on the store as it is now, its vectors loaded, with its generation and the
        library's date order (a sort of every row: 1.8 s at 1M photos, so not on the search lane)."""
        searcher = open_searcher(self.settings)
        try:
            generation, store_id = searcher.generation(), searcher.store_id()
            roots = [os.path.realpath(root) for root in searcher.roots()]
            searcher.warm()
            by_date = searcher.ids_by_date()
        except BaseException:
            searcher.close()
            raise
        return NextSearcher(searcher, generation, by_date, (store_id, roots))

    def swap(self, upcoming: "NextSearcher") -> None:
        """Answer from now on with what open_next made; the old searcher is closed."""
        old, self.searcher, self.generation = self.searcher, upcoming.searcher, upcoming.generation
        self._orders = {Filters(): upcoming.by_date}
        self._opened_on = upcoming.opened_on
        self.missing = {r.id for r in self.searcher.records(sorted(self.missing))
                        if r.status == "indexed" and not os.path.exists(r.path)}  # still gone, still listed
        old.close()


@dataclass(frozen=True)
class NextSearcher:
    """A searcher ready to take over, and what was read for it before the switch."""

    searcher: Searcher
    generation: int
    by_date: np.ndarray  # indexed ids, newest first (CatalogReader.ids_by_date)
    opened_on: tuple[str, list[str]]  # the catalog's identity (store id) and its roots, resolved, when opened
