"""What a query's words mean as ImageNet classes: the weights its mass is summed with, the classes
that made a photo match, and the WordNet senses `--explain` shows (model/ranking.py has the why)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.class_senses import Sense, load_class_senses
from model.ranking import ClassWeights, class_weights
from search.query_parser import Term
from search.results import Reason
from store.probabilities import TopClasses

REASONS = 3  # classes named per result


@dataclass(frozen=True)
class TermSenses:
    """One word term of a query and its noun senses that cover classes (none: it ranks by cosine)."""

    text: str
    weight: float
    senses: tuple[Sense, ...]


def query_classes(terms: Sequence[Term]) -> ClassWeights:
    """The classes a query's word terms cover, weighted (image terms cover none)."""
    return class_weights([(t.weight, None if t.is_image else t.text) for t in terms], load_class_senses())


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
    return tuple(Reason(senses.class_sense(int(top.ids[i])).name, senses.class_sense(int(top.ids[i])).wnid,
                        float(top.probabilities[i]))
                 for i in np.argsort(-share, kind="stable")[:REASONS] if share[i] > 0)


def explain(terms: Sequence[Term]) -> list[TermSenses]:
    """Each word term with its covering senses, for `--explain`."""
    senses = load_class_senses()
    return [TermSenses(t.text, t.weight, tuple(senses.senses(t.text))) for t in terms if not t.is_image]
