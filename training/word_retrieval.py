"""Retrieval by the words people type: each head word and each category word of a dataset as a query
over its images, ranked the way `devsearch query` ranks (cosine + BETA x class mass, model/ranking.py).

Head words: the `head` column of labels.csv. Category words: the segments of the `category` column
(`animals/birds`) with at least MIN_PHOTOS images, as the singular a user types (`bird`), since
general words (bird, fruit, tool) are what a word space alone ranks worst. Measures: P@5, P@10 and
average precision, averaged over the queries the model's word space knows.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from devsearch.core.errors import UnknownWordError
from devsearch.core.vectors import unit_rows
from devsearch.model.class_senses import load_class_senses
from devsearch.model.conse import top_classes
from devsearch.model.ranking import BETA, score, word_weights
from devsearch.store.kept_classes import TOP_K
from devsearch.training.datasets import LabelledImage
from devsearch.wordspace.lookup import WordLookup
from devsearch.wordspace.wordnet import load_wordnet

MIN_PHOTOS = 3
Ranker = Callable[[str], "np.ndarray | None"]  # a word -> one score per image (None: cannot rank by it)


def head_queries(images: Sequence[LabelledImage]) -> dict[str, np.ndarray]:
    """Each head word -> which images have it (empty without a head column)."""
    heads = [image.fields.get("head", "").strip().lower() for image in images]
    return {head: np.array([h == head for h in heads]) for head in sorted(set(heads)) if head}


def category_queries(images: Sequence[LabelledImage]) -> dict[str, np.ndarray]:
    """Each category word (singular) -> which images are in a category with that segment."""
    wordnet = load_wordnet()
    words = [{wordnet.singular(segment) for segment in image.fields.get("category", "").lower().split("/") if segment}
             for image in images]
    queries = {word: np.array([word in mine for mine in words]) for word in sorted(set().union(*words))}
    return {word: relevant for word, relevant in queries.items() if relevant.sum() >= MIN_PHOTOS}


def meaning_ranker(embeddings: np.ndarray, words: WordLookup, probabilities: np.ndarray | None,
                   beta: float = BETA, keep: int = TOP_K) -> Ranker:
    """Rank as a query does: cosine to the word, plus beta x its classes' mass in each image's `keep`
    top classes when the model projects classifier outputs (probabilities given)."""
    embeddings = unit_rows(embeddings)
    kept = top_classes(probabilities, keep) if probabilities is not None else None
    senses = load_class_senses()

    def rank(word: str) -> np.ndarray | None:
        try:
            cosine = embeddings @ words.vector(word)
        except UnknownWordError:
            return None
        weights = word_weights(word, senses)
        return score(cosine, weights.mass(*kept), beta) if kept is not None and weights else cosine

    return rank


def retrieval_metrics(rank: Ranker, queries: dict[str, np.ndarray], prefix: str) -> dict[str, float]:
    """Mean P@5, P@10 and AP over the queries; a query the model cannot rank by scores 0."""
    per_query = []
    for word, relevant in queries.items():
        scores = rank(word)
        if scores is None or not np.isfinite(scores).any():
            per_query.append((0.0, 0.0, 0.0))
            continue
        ranked = relevant[np.argsort(-scores, kind="stable")]
        hits = np.flatnonzero(ranked) + 1
        per_query.append((ranked[:5].sum() / 5, ranked[:10].sum() / 10, float(np.mean(np.arange(1, len(hits) + 1) / hits))))
    if not per_query:
        return {}
    p5, p10, ap = np.mean(per_query, axis=0)
    return {f"{prefix}_p@5": float(p5), f"{prefix}_p@10": float(p10), f"{prefix}_ap": float(ap)}
