"""What a query's words mean as ImageNet classes: the weights its mass is summed with, the classes
that made a photo match, and the WordNet senses `--explain` shows (model/ranking.py has the why)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devsearch.model.class_senses import Sense, load_class_senses
from devsearch.model.ranking import ClassWeights, QueryClasses, class_weights, photo_classes, word_classes
from devsearch.search.query_parser import Term, parse_query
from devsearch.search.results import Reason
from devsearch.store.kept_classes import TopClasses

REASONS = 3  # classes named per result


@dataclass(frozen=True)
class TermSenses:
    """One word term of a query and its noun senses that cover classes (none: it ranks by cosine)."""

    text: str
    weight: float
    senses: tuple[Sense, ...]


def query_classes(terms: Sequence[Term], photos: Mapping[Path, TopClasses | None]) -> QueryClasses:
    """The classes a query's terms stand for, weighted (model/ranking.py): a word the classes below
    its senses, a photo its own top classes (none when its model keeps none)."""
    senses = load_class_senses()
    total = sum(abs(term.weight) for term in terms)
    words = [(t.weight, *word_classes(t.text, senses)) for t in terms if t.image is None]
    tops = [(t.weight, photos.get(t.image)) for t in terms if t.image is not None]
    return QueryClasses(class_weights(words, total),
                        class_weights([(w, *photo_classes(top.ids, top.probabilities)) for w, top in tops
                                       if top is not None], total))


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


def explain(query: str, add: Iterable[str] = (), subtract: Iterable[str] = ()) -> list[TermSenses]:
    """Each word term of a query with its covering senses, for `--explain`."""
    senses = load_class_senses()
    return [TermSenses(t.text, t.weight, tuple(senses.senses(t.text)))
            for t in parse_query(query, add, subtract) if not t.is_image]
