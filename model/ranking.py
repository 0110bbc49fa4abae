"""Rank by meaning: rank score = cosine + BETA x mass, where mass is the classifier's probability on the
ImageNet classes at or below the query words' WordNet noun senses (the score a result shows is the
calibrated probability of its rank score, model/calibration.py, which carries BETA in its fits).

General words sit nearer other general words than their own members in a word space (GloVe:
cos(bird, cat) = .70, cos(bird, toucan) = -.04), so cosine alone ranks cats above toucans for `bird`.
The classifier knows better: "toucan 0.8" means a bird with probability at least 0.8. A query's
terms give each class a weight: the term's weight over the sum of all weights' sizes, times 1 for
every class below a word's senses. A photo given as a term weighs its own top classes instead, and
its mass in another photo is the cosine of their class probabilities (1 for the same photo, as a
sure word match is 1), so a photo term can outweigh a word as its weight says. `dog - cat` subtracts
cat's mass and `2:dog` weighs no more than `dog`; mass is then the weighted sum of a photo's
probabilities. A word with no class below it (a planet, `lavender`) adds no mass, and a query
with no classes at all ranks by cosine alone.

A word reaches classes by more routes than its senses (model/word_evidence.py: sense weights,
scenes, hypernym backoff, near-duplicate classes), each class counting its weight instead of 1, and
a word about people adds the people detectors' signal to the mass the same way (model/people.py).

BETA was chosen on the dev split of tuxpaint-objects (scripts/tune_ranking.py): AP rises with BETA
and levels off; 10 is the smallest value within 0.01 AP of the best on head and category words.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from devsearch.model.class_senses import ClassSenses
from devsearch.model.word_evidence import word_evidence

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


@dataclass(frozen=True)
class QueryClasses:
    """A query's classes: its words' (mass: the probability on them) and its photos' (mass: the cosine
    of the photos' class probabilities, so the store divides by each photo's probability length); and
    the people detectors' columns its words read, each with its weight (model/people.py: the signal's
    strength, 0..1, counts like a probability on a class)."""

    words: ClassWeights = NO_CLASSES
    photos: ClassWeights = NO_CLASSES
    people: tuple[tuple[str, float], ...] = ()  # (person_score | people_count | face_share, weight)

    def __bool__(self) -> bool:
        return bool(self.words) or bool(self.photos) or bool(self.people)

    def combined(self) -> ClassWeights:
        """Both, summed per class (to name the classes that carried a photo's mass)."""
        return class_weights([(1.0, self.words.classes, self.words.weights),
                              (1.0, self.photos.classes, self.photos.weights)], total=1.0)


def class_weights(terms: Sequence[tuple[float, np.ndarray, np.ndarray]], total: float | None = None) -> ClassWeights:
    """The class weights of a query's terms, each given as (its weight, class ids, how much each class
    counts): the weight over total (default: the sum of the terms' weights' sizes), times the class's
    count, summed."""
    total = sum(abs(weight) for weight, _, _ in terms) if total is None else total
    weights: dict[int, float] = {}
    for weight, ids, counts in terms:
        for index, count in zip(np.asarray(ids).tolist(), np.asarray(counts).tolist()):
            weights[index] = weights.get(index, 0.0) + weight * count / total
    kept = sorted(index for index, weight in weights.items() if weight)
    if not kept:
        return NO_CLASSES
    return ClassWeights(np.array(kept, dtype=np.int64), np.array([weights[i] for i in kept], dtype=np.float32))


def word_classes(word: str, senses: ClassSenses) -> tuple[np.ndarray, np.ndarray]:
    """A word as a term of class_weights: the classes it reaches (model/word_evidence.py: below its
    senses, weighted by how common each sense is; its scene classes; else its hypernym's, discounted;
    and their near-duplicates), each counting its weight."""
    evidence = word_evidence(word, senses)
    return np.array(evidence.classes, dtype=np.int64), np.array(evidence.weights, dtype=np.float32)


def photo_classes(ids: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A photo as a term of class_weights: its top classes, each counting its probability over the
    length of the photo's probability vector."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    return np.asarray(ids, dtype=np.int64), probabilities / max(float(np.linalg.norm(probabilities)), 1e-12)


def word_weights(word: str, senses: ClassSenses) -> ClassWeights:
    """The class weights of one word alone."""
    return class_weights([(1.0, *word_classes(word, senses))])

