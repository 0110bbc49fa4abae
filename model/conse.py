"""ConSE (Norouzi et al. 2014) without Keras: the class vectors, and the projection of a photo's top
classes into the word space.

The compiled network runs the same projection as a Keras layer (model.heads.conse_embedding); this
one works on the sparse top classes the store keeps, so a store can be moved to a new projection
without decoding a photo again, and evaluation can score cached classifier outputs.

Class vectors: a class's name alone is a poor address in a word space (`toucan` is far from `bird`),
so each class vector is its first synonym's vector plus HYPERNYM_WEIGHT x the mean vector of the
lemmas of its WordNet hypernyms 1..HYPERNYM_LEVELS steps up (toucan + mean(piciform bird, bird)),
unit-normed. A class whose names the word space lacks takes its hypernyms' mean alone. Levels,
weight and CONSE_TOP_T were chosen on the dev split of tuxpaint-objects (scripts/tune_ranking.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from devsearch.core.errors import UnknownWordError
from devsearch.core.vectors import unit_rows
from devsearch.model.class_senses import ClassSenses
from devsearch.model.imagenet import imagenet_classes
from devsearch.wordspace.lookup import WordLookup

CONSE_TOP_T = 50
HYPERNYM_LEVELS = 2
HYPERNYM_WEIGHT = 1.0
CLASS_VECTORS = f"hypernyms-{HYPERNYM_LEVELS}x{HYPERNYM_WEIGHT:g}"  # the recipe's name in a manifest


def label_vectors(class_names: Sequence[Sequence[str]], words: WordLookup) -> tuple[np.ndarray, int]:
    """One unit vector per class: its first synonym the word space knows; zeros where none is known.

    Returns the matrix and how many classes had no vector.
    """
    matrix = np.zeros((len(class_names), words.dims), dtype=np.float32)
    missing = 0
    for row, synonyms in enumerate(class_names):
        found = _first_known(synonyms, words)
        if found is None:
            missing += 1
        else:
            matrix[row] = found
    return matrix, missing


def imagenet_label_vectors(words: WordLookup, senses: ClassSenses, levels: int = HYPERNYM_LEVELS,
                           weight: float = HYPERNYM_WEIGHT) -> tuple[np.ndarray, int]:
    """ConSE's 1000 class vectors (see the module doc; levels=0 is the first synonym alone) and how
    many classes have none."""
    names, _ = label_vectors([c.names for c in imagenet_classes()], words)
    if levels <= 0 or weight == 0:
        return names, int((~names.any(axis=1)).sum())
    blended = names.copy()
    known: dict[str, np.ndarray | None] = {}  # classes share hypernyms: about 1,300 lemmas in 3,700 look-ups
    for index in range(len(blended)):
        lemmas = [lemma for sense in senses.hypernyms(index, levels) for lemma in sense.lemmas]
        for lemma in lemmas:
            if lemma not in known:
                known[lemma] = _first_known([lemma], words)
        above = [known[lemma] for lemma in lemmas if known[lemma] is not None]
        if above:
            blended[index] = names[index] + weight * np.mean(above, axis=0)
    blended = unit_rows(blended) * blended.any(axis=1, keepdims=True)
    return blended.astype(np.float32), int((~blended.any(axis=1)).sum())


def _first_known(synonyms: Sequence[str], words: WordLookup) -> np.ndarray | None:
    for name in synonyms:
        try:
            return words.vector(name)
        except UnknownWordError:
            continue
    return None


def top_classes(probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most probable classes of each row: ids (N, k) int64 and probabilities (N, k) float32,
    most probable first (ties: the lower class id first)."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    k = min(k, probabilities.shape[1])
    picked = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(probabilities, picked, axis=1)
    order = np.lexsort((picked, -values), axis=1)
    return np.take_along_axis(picked, order, axis=1).astype(np.int64), np.take_along_axis(values, order, axis=1)


@dataclass(frozen=True)
class ConseProjection:
    """A ConSE bundle's projection: its class vectors and T, applied to kept top classes."""

    class_vectors: np.ndarray
    top_t: int

    def __call__(self, class_ids: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        return project(class_ids, probabilities, self.class_vectors, self.top_t)


def project_all(probabilities: np.ndarray, class_vectors: np.ndarray, top_t: int = CONSE_TOP_T) -> np.ndarray:
    """ConSE vectors (N, D) of full classifier outputs (N, classes)."""
    every_class = np.broadcast_to(np.arange(probabilities.shape[1]), probabilities.shape)
    return project(every_class, probabilities, class_vectors, top_t)


def project(class_ids: np.ndarray, probabilities: np.ndarray, class_vectors: np.ndarray,
            top_t: int = CONSE_TOP_T) -> np.ndarray:
    """ConSE vectors (N, D) of photos given by their top classes (ids and probabilities (N, K)):
    the top_t probabilities among classes with a vector, renormalised, times the class vectors."""
    class_ids = np.asarray(class_ids, dtype=np.int64)
    probabilities = np.where(class_vectors[class_ids].any(axis=2), np.asarray(probabilities, np.float32), 0)
    keep = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_t]
    ids = np.take_along_axis(class_ids, keep, axis=1)
    weights = np.take_along_axis(probabilities, keep, axis=1)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    mixed = np.einsum("nt,ntd->nd", weights, class_vectors[ids])
    return unit_rows(mixed).astype(np.float32)
