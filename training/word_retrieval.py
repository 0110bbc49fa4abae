"""Retrieval by the words people type: each head word and each category word of a dataset as a query
over its images, scored the way `devsearch query` scores (the calibrated probability of the cosine
and the class mass, model/calibration.py).

Head words: the `head` column of labels.csv. Category words: the segments of the `category` column
(`animals/birds`) with at least MIN_PHOTOS images, as the singular a user types (`bird`), since
general words (bird, fruit, tool) are what a word space alone ranks worst. People: `person` for the
images of a `people` column (how many people it shows) that show any. Measures: P@1, P@5, P@10 and
average precision, averaged over the queries the model's word space knows; and for a calibrated
score, the precision and recall of the match set (the images scoring at least the match
threshold), pooled over the queries.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from devsearch.core.errors import UnknownWordError
from devsearch.core.vectors import unit_rows
from devsearch.model.class_senses import load_class_senses
from devsearch.model.conse import top_classes
from devsearch.model.calibration import load_calibration, word_kind
from devsearch.model.people import strength
from devsearch.model.word_evidence import word_evidence
from devsearch.model.ranking import word_weights
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


def people_queries(images: Sequence[LabelledImage]) -> dict[str, np.ndarray]:
    """`person` -> which images show people, from a `people` column (a count); empty without one."""
    counts = [image.fields.get("people", "").strip() for image in images]
    if not any(counts):
        return {}
    return {"person": np.array([count.isdigit() and int(count) > 0 for count in counts])}


def meaning_ranker(embeddings: np.ndarray, words: WordLookup, probabilities: np.ndarray | None,
                   beta: float | None = None, keep: int = TOP_K,
                   people: Mapping[str, np.ndarray] | None = None) -> Ranker:
    """Score as a query does: the calibrated probability (the fit of the word's kind) of the cosine to
    the word, its classes' mass in each image's `keep` top classes (when the model projects classifier
    outputs, probabilities given) and, for a word about people, the people detectors' signal (people:
    each column's values per image, when the detectors ran). beta (for tuning): rank by cosine +
    beta x mass instead."""
    embeddings = unit_rows(embeddings)
    kept = top_classes(probabilities, keep) if probabilities is not None else None
    senses = load_class_senses()
    calibration = load_calibration()

    def rank(word: str) -> np.ndarray | None:
        try:
            cosine = embeddings @ words.vector(word)
        except UnknownWordError:
            return None
        weights = word_weights(word, senses)
        mass = weights.mass(*kept) if kept is not None and weights else None
        if beta is not None:
            return cosine if mass is None else cosine + beta * mass
        use = word_evidence(word, senses).people
        signal = use.weight * strength(use.column, people[use.column]) if use is not None and people else None
        if mass is None and signal is None:
            return calibration.fit("words_no_class").probability(cosine)
        fit = calibration.fit(word_kind(word_evidence(word, senses)))
        parts = {"mass": mass, "people": signal}
        return fit.probability(cosine + sum(fit.bonus_weight(name) * value for name, value in parts.items()
                                            if value is not None))

    return rank


def retrieval_metrics(rank: Ranker, queries: dict[str, np.ndarray], prefix: str,
                      threshold: float | None = None) -> dict[str, float]:
    """Mean P@1, P@5, P@10 and AP over the queries (a query the model cannot rank by scores 0); with a
    threshold, the precision and recall of the images scoring at least it, pooled over the queries."""
    per_query = []
    chosen = right = relevant_total = 0
    for word, relevant in queries.items():
        scores = rank(word)
        relevant_total += int(relevant.sum())
        if scores is None or not np.isfinite(scores).any():
            per_query.append((0.0, 0.0, 0.0, 0.0))
            continue
        ranked = relevant[np.argsort(-scores, kind="stable")]
        hits = np.flatnonzero(ranked) + 1
        per_query.append((float(ranked[0]), ranked[:5].sum() / 5, ranked[:10].sum() / 10,
                          float(np.mean(np.arange(1, len(hits) + 1) / hits))))
        if threshold is not None:
            matched = scores >= threshold
            chosen += int(matched.sum())
            right += int((matched & relevant).sum())
    if not per_query:
        return {}
    p1, p5, p10, ap = np.mean(per_query, axis=0)
    out = {f"{prefix}_p@1": float(p1), f"{prefix}_p@5": float(p5), f"{prefix}_p@10": float(p10), f"{prefix}_ap": float(ap)}
    if threshold is not None:
        out[f"{prefix}_match_precision"] = right / chosen if chosen else float("nan")
        out[f"{prefix}_match_recall"] = right / relevant_total if relevant_total else float("nan")
    return out
