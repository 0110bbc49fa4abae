"""The measures of Frome et al. 2013 (DeViSE), on a score matrix: numpy only.

Every function takes `scores` (N images x L labels; higher is better; -inf where a model cannot
name a label at all, e.g. a softmax classifier and a label it never saw) and `true` (N label
indices). A label with score -inf is never counted as predicted.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from devsearch.core.vectors import unit_rows

def top_k_labels(scores: np.ndarray, k: int) -> np.ndarray:
    """(N, k) label indices per row, best first, ties broken by label order; -1 where fewer than k are
    finite (core.vectors.top_k is the one-row version, which leaves non-finite scores in)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    finite = np.isfinite(np.take_along_axis(scores, order, axis=1))
    return np.where(finite, order, -1)


def flat_hit_at_k(scores: np.ndarray, true: np.ndarray, k: int) -> float:
    """Fraction of images whose true label is among their k best-scored labels."""
    if len(true) == 0:
        return float("nan")
    return float((top_k_labels(scores, k) == np.asarray(true)[:, None]).any(axis=1).mean())


def valid_label_sets(label_ancestors: Sequence[Mapping[str, int] | None], k: int) -> list[set[int]]:
    """For each label, the labels that count as correct at precision@k (the paper's appendix).

    label_ancestors[i]: label i's hierarchy node and all its ancestors, each with its level (0 for
    the node itself, 1 for its parents, ...), or None when the label has no node (it then counts
    only itself). Starting from {i}, each level up adds every label below one of the ancestors at
    that level, until the set holds at least k labels or the root has been passed.
    """
    below: dict[str, set[int]] = {}
    for j, ancestors in enumerate(label_ancestors):
        for node in ancestors or ():
            below.setdefault(node, set()).add(j)
    sets = []
    for i, ancestors in enumerate(label_ancestors):
        valid = {i}
        by_level: dict[int, list[str]] = {}
        for node, level in (ancestors or {}).items():
            by_level.setdefault(level, []).append(node)
        for level in sorted(by_level):
            if len(valid) >= k:
                break
            for node in by_level[level]:
                valid |= below[node]
        sets.append(valid)
    return sets


def hierarchical_precision_at_k(scores: np.ndarray, true: np.ndarray, valid_sets: Sequence[set[int]], k: int) -> float:
    """Mean over images of |k best labels ∩ valid set of the true label| / k."""
    if len(true) == 0:
        return float("nan")
    best = top_k_labels(scores, k)
    hits = [sum(1 for j in row if j >= 0 and j in valid_sets[t]) for row, t in zip(best, true)]
    return float(np.mean(hits) / k)


def retrieval_scores(scores: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Each label that has images, used as a query over all images: mean P@1, P@5 and average precision.

    Images are ranked by their score for the query label. A label the model cannot score (all
    -inf) retrieves nothing: its precision and AP are 0.
    """
    true = np.asarray(true)
    per_query = np.array([_query_scores(scores[:, label], true == label) for label in np.unique(true)])
    if len(per_query) == 0:
        return {"word_p@1": float("nan"), "word_p@5": float("nan"), "word_ap": float("nan")}
    p1, p5, ap = per_query.mean(axis=0)
    return {"word_p@1": float(p1), "word_p@5": float(p5), "word_ap": float(ap)}


def _query_scores(column: np.ndarray, relevant: np.ndarray) -> tuple[float, float, float]:
    """(P@1, P@5, average precision) of one query's ranking of the images."""
    if not np.isfinite(column).any():
        return 0.0, 0.0, 0.0
    ranked = relevant[np.argsort(-column, kind="stable")]
    hit_ranks = np.flatnonzero(ranked) + 1
    average = float(np.mean(np.arange(1, len(hit_ranks) + 1) / hit_ranks))
    return float(ranked[:1].sum()), float(ranked[:5].sum() / 5), average


def cosine_scores(embeddings: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """(N, L) cosine similarities; rows of either that are all zero score -inf (nothing to compare)."""
    images, labels = unit_rows(embeddings), unit_rows(label_vectors)
    image_ok, label_ok = images.any(axis=1), labels.any(axis=1)
    scores = images @ labels.T
    scores[~image_ok, :] = -np.inf
    scores[:, ~label_ok] = -np.inf
    return scores
