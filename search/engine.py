"""Searches against the store: a query or a photo becomes one vector, then k-NN with filters, then rows.

Every result is scored by the shipped calibration (model/calibration.py): its raw parts (the cosine
to the query and the classifier's mass on the classes below the query words' WordNet senses, read
from the store's class postings) are ranked by the fitted rank score, cosine + weight x mass, and
that is turned into the probability that the photo shows what was asked. A phrase of several
content words that the vocabulary does not hold (`dog on beach`) is a conjunction
(search/phrases.py): each word is scored on its own and the photos are ranked by the product of the
words' probabilities. A store that keeps no classes (an older store, a DeViSE model) ranks by cosine.
A `Searcher` holds an open store and its word space, so a long-lived caller (the benchmark, a
server) pays the opening cost once and searches the HNSW graph; `search_text` and `search_similar`
are the one-shot forms the CLI calls, and search exactly over the flat vector file instead (for a
single query, loading the graph costs more than scoring every photo). The network is loaded only
when an image must be embedded that the store does not already hold, so a word query never
imports TensorFlow.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import replace
from pathlib import Path

import numpy as np

from devsearch.core.errors import EmptyStoreError, ImageError
from devsearch.core.files import is_under
from devsearch.core.settings import Settings
from devsearch.core.vectors import unit_rows
from devsearch.model.calibration import Fit, load_calibration, word_kind
from devsearch.model.ranking import QueryClasses, class_weights, photo_classes
from devsearch.model.resolver import ResolvedModel, resolve_model
from devsearch.model.people import PEOPLE_FLOOR, strength
from devsearch.model.word_evidence import word_evidence
from devsearch.search.meaning import Explanation, explain, people_reason, query_classes, reasons
from devsearch.search.filters import Filters
from devsearch.search.phrases import content_words
from devsearch.search.query_parser import Term, image_path, parse_query
from devsearch.search.results import Reason, SearchResult, WordEvidence
from devsearch.search.query_vector import query_vector, unit_nonzero
from devsearch.store.catalog import Store
from devsearch.store.kept_classes import TopClasses, keep_top
from devsearch.store.derived.bonus import Bonus
from devsearch.store.records import PhotoRecord
from devsearch.store.report import status_of
from devsearch.store.hashing import content_hash

_MTIME_TOLERANCE = 1e-6
CONJUNCTION_POOL = 200  # each word of a conjunction brings at least this many candidates (or 4 x n)


def bound_model(store: Store, settings: Settings) -> ResolvedModel:
    """The model the store was built with; `--model DIR` must be that same model (same fingerprint)."""
    bound = store.model_manifest()  # Store.open already refused a store with no indexed photo
    if bound is None:
        raise EmptyStoreError(f"no photos indexed in {settings.home}: run `devsearch index PATH` first")
    model = resolve_model(settings, bound)
    store.check_model(model.manifest.fingerprint)
    return model


class Searcher:
    """An open store plus the word space of its model; not thread-safe, one per thread.

    exact=True: every search scores all photos (flat file); else HNSW (approximate, recall@10 ~0.99).
    """

    def __init__(self, store: Store, settings: Settings, *, exact: bool = False):
        self._store = store  # private: a caller reads the store through the methods below
        self.settings = settings
        self.exact = exact
        self.model = bound_model(store, settings)
        self.dims = self.model.manifest.dims
        self.words = self.model.words
        self._allowed: tuple[Filters, int, np.ndarray] | None = None  # the last filters' photos, at a generation

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the two searches ------------------------------------------------------------------

    def text(self, query: str, n: int = 10, *, add: Iterable[str] = (), subtract: Iterable[str] = (),
             filters: Filters = Filters(), min_score: float | None = None) -> list[SearchResult]:
        """Photos that best match a query (words, phrases, image paths, weights, + and -)."""
        return self.terms(parse_query(query, add, subtract), n, filters=filters, min_score=min_score)

    def terms(self, terms: Sequence[Term], n: int = 10, *, filters: Filters = Filters(),
              min_score: float | None = None, exclude: Set[int] = frozenset()) -> list[SearchResult]:
        """Photos that best match parsed terms: their weighted vectors' cosine plus their classes' mass
        (a word's classes are those below its senses, a photo's are its own top classes), or, for a
        phrase the vocabulary does not hold, the product of its content words' scores. exclude:
        photo ids never returned."""
        words = content_words(terms, self.words)
        if words is not None and len(words) > 1:
            return self.conjunction(words, n, filters=filters, min_score=min_score, exclude=exclude)
        if words:  # one content word among stop words: that word alone
            terms = [Term(1.0, words[0])]
        images = [term.image for term in terms if term.image is not None]
        photos = dict(zip(images, self.photo_evidence(images))) if images else {}
        vector = query_vector(terms, self.words.vector, lambda paths: np.stack([photos[p][0] for p in paths]),
                              self.dims)
        classes = query_classes(terms, {path: top for path, (_, top) in photos.items()})
        if not self.model.manifest.projects_classes:  # no classes kept: only the people detectors' signals
            classes = QueryClasses(people=classes.people)
        if len(images) == len(terms):
            kind = "similar" if classes else "similar_no_class"
        else:
            kind = _words_kind(terms) if classes else "words_no_class"
        fit = load_calibration().fit(kind)
        return self.nearest(vector, n, filters, exclude, classes=classes, min_score=min_score, fit=fit)

    def conjunction(self, words: Sequence[str], n: int = 10, *, filters: Filters = Filters(),
                    min_score: float | None = None, exclude: Set[int] = frozenset()) -> list[SearchResult]:
        """Photos ranked by the product of each word's calibrated score (how likely a photo shows
        them all), among each word's best CONJUNCTION_POOL (at least 4 x n) photos."""
        if n <= 0:
            return []
        calibration = load_calibration()
        scorers = []
        for word in words:
            classes = query_classes([Term(1.0, word)], {})
            if not self.model.manifest.projects_classes:
                classes = QueryClasses(people=classes.people)
            fit = calibration.fit(_words_kind([Term(1.0, word)]) if classes else "words_no_class")
            scorers.append((word, self.words.vector(word), classes, fit, self._parts(classes)))
        pool = max(CONJUNCTION_POOL, 4 * n)
        candidates = sorted({photo_id for _, vector, _, fit, parts in scorers
                             for photo_id, _ in self._hits(vector, pool, filters, exclude, _bonus(parts, fit))})
        if not candidates:
            return []
        found = self._store.indexed_vectors_of(candidates, self.dims)
        ids = np.array([i for i in candidates if i in found], dtype=np.int64)
        matrix = np.stack([unit_nonzero(found[int(i)]) for i in ids])
        per_word = []
        for word, vector, classes, fit, parts in scorers:
            cosine = matrix @ vector
            values = {"mass": np.zeros(len(ids)), "people": np.zeros(len(ids)),
                      **{name: part.of(ids) for name, part in parts.items()}}
            raw = cosine + sum(fit.bonus_weight(name) * value for name, value in values.items())
            per_word.append((cosine, values, fit.probability(raw)))
        score = np.prod([p for _, _, p in per_word], axis=0)
        order = [int(i) for i in np.argsort(-score, kind="stable")[:n] if min_score is None or score[i] >= min_score]
        cut = self._cut_off(min_score)
        chosen = [int(ids[i]) for i in order]
        explained = [self._explainer(classes, parts, chosen) for _, _, classes, _, parts in scorers]
        evidence = [tuple(WordEvidence(word, float(p[i]), float(cosine[i]), float(values["mass"][i]),
                                       float(values["people"][i]), why(int(ids[i])))
                          for (word, *_), (cosine, values, p), why in zip(scorers, per_word, explained))
                    for i in order]
        records = self._store.get(chosen)
        return [SearchResult(rank=rank, score=float(score[i]), path=record.path, width=record.width,
                             height=record.height, taken=record.taken, mtime=record.mtime, cosine=None,
                             mass=0.0, id=record.id, match=bool(score[i] >= cut), words=parts)
                for rank, (i, record, parts) in enumerate(zip(order, records, evidence), 1)]

    def similar(self, image: Path, n: int = 10, *, include_self: bool = False,
                filters: Filters = Filters(), min_score: float | None = None) -> list[SearchResult]:
        """Photos that show what a photo shows: ranked and scored as a query of that one photo (the
        cosine of their vectors and of their class probabilities); the photo itself (same path or
        same content) is left out unless asked."""
        path = image_path(str(image))
        exclude = set() if include_self else {record.id for record in self.same_photo(path, strict=False)}
        vector, top = self.photo_evidence([path])[0]
        return self.like(vector, top, n, filters=filters, exclude=exclude, min_score=min_score)

    def like(self, vector: np.ndarray, top: TopClasses | None, n: int = 10, *, filters: Filters = Filters(),
             exclude: Set[int] = frozenset(), min_score: float | None = None) -> list[SearchResult]:
        """Photos that show what a photo shows, given its unit vector and its top classes (None when
        its model keeps none): scored by the `similar` fit of both cosines (model/calibration.py)."""
        classes = QueryClasses()
        if top is not None and self.model.manifest.projects_classes:
            classes = QueryClasses(photos=class_weights([(1.0, *photo_classes(top.ids, top.probabilities))]))
        fit = load_calibration().fit("similar" if classes else "similar_no_class")
        return self.nearest(vector, n, filters, exclude, classes=classes, min_score=min_score, fit=fit)

    # -- vectors of photo files -----------------------------------------------------------

    def same_photo(self, path: Path, *, strict: bool) -> list[PhotoRecord]:
        """Catalog rows that are this file: its content hash, and its path.

        strict=True keeps the path's row only when size and mtime still match (its stored vector
        is then this file's); strict=False keeps it anyway (`similar` leaves it out either way).
        """
        found = {r.id: r for r in self._store.find_by_hash(content_hash(path)) if r.status == "indexed"}
        stat = path.stat()
        for candidate in {path.absolute(), path.resolve()}:
            record = self._store.find_by_path(candidate)
            if record is None or record.status != "indexed":
                continue
            unchanged = record.size == stat.st_size and abs(record.mtime - stat.st_mtime) < _MTIME_TOLERANCE
            if unchanged or not strict:
                found[record.id] = record
        return list(found.values())

    def image_vectors(self, paths: Sequence[Path]) -> np.ndarray:
        """Unit vectors of photo files, float32 (len(paths), dims): stored when indexed, else the network's."""
        return np.stack([vector for vector, _ in self.photo_evidence(paths)])

    def photo_evidence(self, paths: Sequence[Path]) -> list[tuple[np.ndarray, TopClasses | None]]:
        """Per photo file, its unit vector and its top classes (None when its model keeps none):
        stored when indexed, else the network's."""
        out: list[tuple[np.ndarray, TopClasses | None] | None] = []
        for path in paths:
            known = self.same_photo(path, strict=True)
            if known:
                photo_id = known[0].id
                out.append((unit_nonzero(self._store.vector_of(photo_id)), self._store.top_classes_of([photo_id]).get(photo_id)))
            else:
                out.append(None)
        todo = [i for i, found in enumerate(out) if found is None]
        if todo:
            for i, evidence in zip(todo, self._embed([paths[i] for i in todo])):
                out[i] = evidence
        return out

    def _embed(self, paths: Sequence[Path]) -> list[tuple[np.ndarray, TopClasses | None]]:
        """Run the network (loaded on first use, checked against the store's model)."""
        from devsearch.core.photo import decode_photo

        pixels = []
        for path in paths:
            try:
                pixels.append(decode_photo(path).pixels)
            except ImageError as err:
                raise ImageError(f"{path}: {err}") from None
        vectors, probabilities = self.model.network().embed_and_classify(np.stack(pixels))
        tops = keep_top(probabilities) if self.model.manifest.projects_classes else [None] * len(paths)
        return [(unit_nonzero(vector), top) for vector, top in zip(vectors, tops)]

    # -- k-NN, filters, rows ----------------------------------------------------------------

    def _mass(self, classes: QueryClasses) -> Bonus:
        """Each photo's mass for the query's classes, from the store's class postings."""
        words = self._store.class_mass(classes.words.classes, classes.words.weights)
        if not classes.photos:
            return words
        return words + self._store.class_mass(classes.photos.classes, classes.photos.weights, per_length=True)

    def _people(self, classes: QueryClasses) -> Bonus | None:
        """Each photo's people signal for the query's people words (model/people.py), weighted; None without."""
        total = None
        for column, weight in classes.people:
            found = self._store.people_values(column, PEOPLE_FLOOR[column])
            part = Bonus(strength(column, found.values) * np.float32(weight))
            total = part if total is None else total + part
        return total

    def _parts(self, classes: QueryClasses) -> dict[str, Bonus]:
        """A query's raw parts beside the cosine, by photo id: the mass of its classes and the people
        detectors' signal for its people words, those it has."""
        parts = {}
        if classes.words or classes.photos:
            parts["mass"] = self._mass(classes)
        people = self._people(classes)
        if people is not None:
            parts["people"] = people
        return parts

    def _explainer(self, classes: QueryClasses, parts: dict[str, Bonus], ids: Sequence[int]):
        """why(photo id) of the photos ids: the classes that carried its mass and what the people
        detectors found, the larger first."""
        tops = self._store.top_classes_of(ids) if "mass" in parts else {}
        found = self._store.people_of(ids) if "people" in parts else {}
        reasons_of = classes.combined()
        masses, people = parts.get("mass"), parts.get("people")

        def why(photo_id: int) -> tuple[Reason, ...]:
            m = float(masses.of([photo_id])[0]) if masses is not None else 0.0
            p = float(people.of([photo_id])[0]) if people is not None else 0.0
            return _why(reasons(tops.get(photo_id), reasons_of), people_reason(found.get(photo_id), classes.people), p, m)

        return why

    def nearest(self, vector: np.ndarray, n: int, filters: Filters = Filters(), exclude: Set[int] = frozenset(),
                classes: QueryClasses = QueryClasses(), min_score: float | None = None,
                fit: Fit | None = None) -> list[SearchResult]:
        """The n best photos for a unit vector (plus the fit's weights x the query's raw parts: the
        mass of its classes, its people signal) among those the filters allow, minus `exclude`,
        scoring at least min_score (a calibrated score).

        fit: the calibration of this kind of query (default: photos like a photo known by its vector
        alone)."""
        if n <= 0:
            return []
        fit = fit or load_calibration().fit("similar_no_class")
        parts = self._parts(classes)
        hits = self._hits(vector, n, filters, exclude, _bonus(parts, fit))
        if min_score is not None:
            hits = [hit for hit in hits if hit[1] >= fit.rank_score_at(min_score)]
        ids = [photo_id for photo_id, _ in hits]
        records = self._store.get(ids)
        values = {name: part.of(ids) for name, part in parts.items()}
        masses, people = values.get("mass", np.zeros(len(ids))), values.get("people", np.zeros(len(ids)))
        added = sum((fit.bonus_weight(name) * value for name, value in values.items()), np.zeros(len(ids)))
        why = self._explainer(classes, parts, ids)
        scores = fit.probability(np.array([raw for _, raw in hits], dtype=np.float64))
        cut = self._cut_off(min_score)
        return [
            SearchResult(rank=rank, score=float(p), path=record.path, width=record.width, height=record.height,
                         taken=record.taken, mtime=record.mtime, cosine=float(raw - add), mass=float(m), why=why(photo_id),
                         id=record.id, people=float(signal), match=bool(p >= cut))
            for rank, ((photo_id, raw), record, m, signal, add, p)
            in enumerate(zip(hits, records, masses, people, added, scores), 1)
        ]

    def _hits(self, vector: np.ndarray, n: int, filters: Filters, exclude: Set[int] = frozenset(),
              bonus: Bonus | None = None) -> list[tuple[int, float]]:
        """(photo id, cosine + bonus) of the n best photos the filters allow, minus `exclude`.

        With a filter the store searches only the allowed ids (it over-fetches, raises ef, or
        goes exact when they are few), so n matching photos come back whenever n exist."""
        filters = self._narrowing(filters)
        if filters.active:
            allowed = self.allowed_by(filters)
            if exclude:
                allowed = allowed[~np.isin(allowed, np.fromiter(exclude, dtype=np.int64))]
            if allowed.size == 0:
                return []
            return self._store.knn(vector, n, allowed_ids=allowed, exact=self.exact, bonus=bonus)
        return [hit for hit in self._store.knn(vector, n + len(exclude), exact=self.exact, bonus=bonus)
                if hit[0] not in exclude][:n]

    @staticmethod
    def _cut_off(min_score: float | None) -> float:
        """The score a match reaches: --min-score when given, else the calibrated threshold."""
        return min_score if min_score is not None else load_calibration().threshold

    def allowed_by(self, filters: Filters) -> np.ndarray:
        """The ids the filters allow, kept for the next search with the same filters while the store
        stays at its generation: a date filter reads every row (1.4 s at 1M photos), and a gallery
        searches again at each keystroke with the filters unchanged."""
        generation = self._store.generation()
        if self._allowed is None or self._allowed[:2] != (filters, generation):
            ids = self._store.ids_matching(under=filters.under, after=filters.after, before=filters.before)
            ids.flags.writeable = False
            self._allowed = (filters, generation, ids)
        return self._allowed[2]

    def _narrowing(self, filters: Filters) -> Filters:
        """The filters without a folder that holds every indexed folder: it narrows nothing, and
        listing a million ids under it would cost a cold query most of a second."""
        if filters.under is None:
            return filters
        roots = self._store.roots()  # every indexed photo lies under one (a store written without any: no shortcut)
        if roots and all(is_under(root, [str(filters.under)]) for root in roots):
            return replace(filters, under=None)
        return filters

    # -- reads for a long-lived caller (the web gallery), which reaches the store only here --------

    @property
    def home(self) -> Path:
        """The store's folder."""
        return Path(self._store.home)

    def generation(self) -> int:
        """The store's generation now (bumped by every commit)."""
        return self._store.generation()

    def store_id(self) -> str:
        """The catalog's identity now (`index --rebuild` gives it a new one)."""
        return self._store.store_id()

    def roots(self) -> list[str]:
        """The indexed folders, as they were given."""
        return self._store.roots()

    def records(self, ids: Sequence[int]) -> list[PhotoRecord]:
        """The catalog rows of these ids, in their order (ids without a row left out)."""
        return self._store.get(ids)

    def ids_by_date(self) -> np.ndarray:
        """Every indexed id, newest first (capture time, else mtime)."""
        return self._store.ids_by_date()

    def status(self) -> dict:
        """What the store holds, as `devsearch status --json` says it (store/report.py)."""
        return status_of(self._store)

    def warm(self) -> None:
        """Load the k-NN index (and catch it up) now, not during the first search."""
        self._store.knn(np.full(self.dims, self.dims ** -0.5, dtype=np.float32), 1, exact=self.exact)

    def similar_to_indexed(self, record: PhotoRecord, n: int, filters: Filters = Filters(),
                           min_score: float | None = None) -> list[SearchResult]:
        """Photos that show what an indexed photo shows (its stored vector and top classes), without it
        or other copies of it (same content)."""
        copies = {r.id for r in self._store.find_by_hash(record.content_hash) if r.status == "indexed"}
        vector = unit_rows(self._store.vector_of(record.id))
        top = self._store.top_classes_of([record.id]).get(record.id)
        return self.like(vector, top, n, filters=filters, exclude=copies | {record.id}, min_score=min_score)


def _words_kind(terms: Sequence[Term]) -> str:
    """The fit of a query with words that reach something: `words_backoff` when each word reaches
    classes only through its hypernym, else `words` (model/calibration.word_kind)."""
    kinds = {word_kind(word_evidence(term.text)) for term in terms if not term.is_image}
    return "words_backoff" if kinds == {"words_backoff"} and all(not t.is_image for t in terms) else "words"


def _bonus(parts: dict[str, Bonus], fit: Fit) -> Bonus | None:
    """What the store adds to each photo's cosine: the sum of the fit's weight x each raw part."""
    total = None
    for name, part in parts.items():
        weight = fit.bonus_weight(name)
        if weight:
            scaled = part.scaled(weight)
            total = scaled if total is None else total + scaled
    return total


def _why(classes: tuple[Reason, ...], person: Reason | None, people: float, mass: float) -> tuple[Reason, ...]:
    """The reasons of a result: the people detectors' first when they carried more of it than the classes."""
    if person is None:
        return classes
    return (person, *classes) if people >= mass else (*classes, person)


def open_searcher(settings: Settings, *, exact: bool = False) -> Searcher:
    """A Searcher on the store in settings.home (read-only); EmptyStoreError when nothing is indexed."""
    store = Store.open(settings.home)
    try:
        return Searcher(store, settings, exact=exact)
    except BaseException:
        store.close()
        raise


def search_text(query: str, settings: Settings, n: int = 10, *, add: Iterable[str] = (),
                subtract: Iterable[str] = (), filters: Filters = Filters(),
                min_score: float | None = None) -> list[SearchResult]:
    """One-shot `devsearch query`: parse first (a bad query fails before the store is opened)."""
    terms = parse_query(query, add, subtract)
    with open_searcher(settings, exact=True) as searcher:
        return searcher.terms(terms, n, filters=filters, min_score=min_score)


def explain_text(query: str, settings: Settings, *, add: Iterable[str] = (),
                 subtract: Iterable[str] = ()) -> Explanation:
    """`devsearch query --explain`: how the store's model reads the query's words."""
    parse_query(query, add, subtract)  # a bad query fails before the store is opened
    with open_searcher(settings, exact=True) as searcher:
        return explain(query, searcher.words, add, subtract)


def search_similar(image: Path, settings: Settings, n: int = 10, *, include_self: bool = False,
                   filters: Filters = Filters(), min_score: float | None = None) -> list[SearchResult]:
    """One-shot `devsearch similar`: a missing photo fails before the store is opened."""
    path = image_path(str(image))
    with open_searcher(settings, exact=True) as searcher:
        return searcher.similar(path, n, include_self=include_self, filters=filters, min_score=min_score)
