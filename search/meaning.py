"""What a query's words mean as ImageNet classes: the weights its mass is summed with, the classes
that made a photo match, and the WordNet senses `--explain` shows (model/ranking.py has the why)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devsearch.model.class_senses import Sense, load_class_senses
from devsearch.model.people import PERSON_THRESHOLD, PeopleSignal
from devsearch.model.ranking import ClassWeights, QueryClasses, class_weights, photo_classes
from devsearch.model.word_evidence import WordEvidence, word_evidence
from devsearch.search.phrases import content_words
from devsearch.search.query_parser import Term, parse_query
from devsearch.search.results import Reason
from devsearch.store.kept_classes import TopClasses
from devsearch.wordspace.lookup import WordLookup

REASONS = 3  # classes named per result


@dataclass(frozen=True)
class TermSenses:
    """One word term of a query and what it reaches (model/word_evidence.py; nothing: it ranks by cosine)."""

    text: str
    weight: float
    evidence: WordEvidence

    @property
    def senses(self) -> tuple[Sense, ...]:
        return tuple(sense for sense, _ in self.evidence.senses)


def query_classes(terms: Sequence[Term], photos: Mapping[Path, TopClasses | None]) -> QueryClasses:
    """The classes a query's terms stand for, weighted (model/ranking.py): a word the classes it
    reaches (model/word_evidence.py), a photo its own top classes (none when its model keeps none);
    and the people columns its words read, each weighted as a class would be."""
    senses = load_class_senses()
    total = sum(abs(term.weight) for term in terms)
    evidence = [(t.weight, word_evidence(t.text, senses)) for t in terms if t.image is None]
    words = [(weight, np.array(e.classes, dtype=np.int64), np.array(e.weights, dtype=np.float32))
             for weight, e in evidence]
    people: dict[str, float] = {}
    for weight, e in evidence:
        if e.people is not None:
            people[e.people.column] = people.get(e.people.column, 0.0) + weight * e.people.weight / total
    tops = [(t.weight, photos.get(t.image)) for t in terms if t.image is not None]
    return QueryClasses(class_weights(words, total),
                        class_weights([(w, *photo_classes(top.ids, top.probabilities)) for w, top in tops
                                       if top is not None], total),
                        tuple((column, weight) for column, weight in sorted(people.items()) if weight))


def reasons(top: TopClasses | None, weights: ClassWeights) -> tuple[Reason, ...]:
    """The photo's kept classes that added to its mass, largest share first."""
    if top is None or not weights:
        return ()
    at = np.searchsorted(weights.classes, top.ids)
    inside = at < len(weights.classes)
    covered = np.zeros(len(top.ids), dtype=bool)
    covered[inside] = weights.classes[at[inside]] == top.ids[inside]
    share = np.where(covered, top.probabilities * weights.weights[np.minimum(at, len(weights.classes) - 1)], 0)
    senses = load_class_senses()
    named = [(senses.class_sense(int(top.ids[i])), float(top.probabilities[i]))
             for i in np.argsort(-share, kind="stable")[:REASONS] if share[i] > 0]
    return tuple(Reason(sense.name, sense.wnid, p) for sense, p in named)


@dataclass(frozen=True)
class Explanation:
    """What `--explain` shows: the query, its word terms (a conjunction's content words) and senses."""

    query: str
    terms: tuple[TermSenses, ...]
    conjunction: bool  # the terms are a phrase's content words, each scored on its own


def explain(query: str, lookup: WordLookup, add: Iterable[str] = (), subtract: Iterable[str] = ()) -> Explanation:
    """Each word term of a query (each content word of a phrase the vocabulary does not hold) with its
    covering senses, for `--explain`."""
    senses = load_class_senses()
    terms = parse_query(query, add, subtract)
    words = content_words(terms, lookup)
    if words:
        return Explanation(query, tuple(TermSenses(w, 1.0, word_evidence(w, senses)) for w in words), len(words) > 1)
    return Explanation(query, tuple(TermSenses(t.text, t.weight, word_evidence(t.text, senses))
                                    for t in terms if not t.is_image), False)


PEOPLE_REASONS = {"person_score": "a person", "people_count": "people", "face_share": "a face"}


def people_reason(signal: PeopleSignal | None, people: Sequence[tuple[str, float]]) -> Reason | None:
    """What the people detectors found in a photo, for the query's people columns, named as
    "a person (detector)" with the column's value (None when they found nothing it reads)."""
    if signal is None:
        return None
    for column, weight in people:
        value = {"person_score": signal.person_score, "people_count": float(signal.people),
                 "face_share": signal.face_share}[column]
        if weight > 0 and value > 0 and (column != "person_score" or value >= PERSON_THRESHOLD):
            name = (f"{signal.people} {'person' if signal.people == 1 else 'people'}" if column == "people_count"
                    else PEOPLE_REASONS[column])
            return Reason(f"{name} (detector)", column, value)
    return None
