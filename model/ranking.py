"""Rank by meaning: score = cosine + BETA x mass, where mass is the classifier's probability on the
ImageNet classes at or below the query words' WordNet noun senses.

General words sit nearer other general words than their own members in a word space (GloVe:
cos(bird, cat) = .70, cos(bird, toucan) = -.04), so cosine alone ranks cats above toucans for `bird`.
The classifier knows better: "toucan 0.8" means a bird with probability at least 0.8. A query's
terms give each class a weight (the term's weight over the sum of all weights' sizes, for every
class one of its senses covers), so `dog - cat` subtracts cat's mass and `2:dog` weighs no more
than `dog`; mass is then the weighted sum of the photo's probabilities. A term with no class below
it (a planet, `lavender`, an image) adds no mass, and a query with none ranks by cosine alone.

BETA was chosen on the dev split of tuxpaint-objects (scripts/tune_ranking.py): AP rises with BETA
and levels off; 10 is the smallest value within 0.01 AP of the best on head and category words.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.class_senses import ClassSenses

BETA = 10.0


@dataclass(frozen=True)
class ClassWeights:
    """The classes a query covers (ascending) and each one's weight in the mass."""

    classes: np.ndarray  # int64 (C,)
    weights: np.ndarray  # float32 (C,)

    def __bool__(self) -> bool:
        return bool(self.classes.size)

    def mass(self, class_ids: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """Mass of photos given as top classes: ids (N, K) and their probabilities (N, K) -> (N,)."""
        dense = np.zeros(int(max(self.classes.max(initial=0), class_ids.max(initial=0))) + 1, dtype=np.float32)
        dense[self.classes] = self.weights
        return (dense[class_ids] * probabilities).sum(axis=1)


NO_CLASSES = ClassWeights(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


def class_weights(terms: Sequence[tuple[float, str | None]], senses: ClassSenses) -> ClassWeights:
    """Weights of the classes covered by weighted word terms; (weight, None) stands for an image term."""
    total = sum(abs(weight) for weight, _ in terms)
    weights: dict[int, float] = {}
    for weight, text in terms:
        if text is None or not total:
            continue
        for index in senses.covered(text):
            weights[index] = weights.get(index, 0.0) + weight / total
    kept = sorted(index for index, weight in weights.items() if weight)
    if not kept:
        return NO_CLASSES
    return ClassWeights(np.array(kept, dtype=np.int64), np.array([weights[i] for i in kept], dtype=np.float32))


def score(cosine: np.ndarray, mass: np.ndarray, beta: float = BETA) -> np.ndarray:
    """The ranking score of photos with these cosines and masses."""
    return cosine + beta * mass

