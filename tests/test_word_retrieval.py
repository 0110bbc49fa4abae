"""Retrieval by the words people type: head and category words of a dataset as queries, P@k and AP."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devsearch.training.datasets import LabelledImage
from devsearch.training.word_retrieval import category_queries, head_queries, people_queries, retrieval_metrics


def image(name: str, head: str, category: str) -> LabelledImage:
    return LabelledImage(Path(name), head, Path("."), {"head": head, "category": category})


IMAGES = [image("1", "owl", "animals/birds"), image("2", "duck", "animals/birds"), image("3", "hen", "animals/birds"),
          image("4", "cat", "animals/mammals"), image("5", "apple", "food/fruit")]


def test_category_words_are_the_singular_of_segments_with_enough_photos():
    queries = category_queries(IMAGES)
    assert sorted(queries) == ["animal", "bird"]
    assert queries["bird"].tolist() == [True, True, True, False, False]
    assert queries["animal"].sum() == 4


def test_head_words_come_from_the_head_column():
    queries = head_queries(IMAGES)
    assert sorted(queries) == ["apple", "cat", "duck", "hen", "owl"] and queries["owl"].tolist() == [1, 0, 0, 0, 0]


def test_precision_and_average_precision_of_a_ranking():
    scores = {"bird": np.array([0.9, 0.1, 0.8, 0.7, 0.0])}  # ranks: 1, 3, 4(cat), 2 -> hits at 1, 2, 4
    result = retrieval_metrics(scores.get, {"bird": category_queries(IMAGES)["bird"]}, "category")
    assert result["category_p@5"] == pytest.approx(3 / 5) and result["category_p@10"] == pytest.approx(3 / 10)
    assert result["category_ap"] == pytest.approx((1 / 1 + 2 / 2 + 3 / 4) / 3)


def test_a_word_the_model_cannot_rank_by_scores_zero():
    result = retrieval_metrics(lambda word: None, {"bird": category_queries(IMAGES)["bird"]}, "category")
    assert result == {"category_p@1": 0.0, "category_p@5": 0.0, "category_p@10": 0.0, "category_ap": 0.0}


def test_the_match_set_is_the_images_scoring_at_least_the_threshold_pooled_over_the_queries():
    scores = {"bird": np.array([0.9, 0.1, 0.8, 0.7, 0.0]), "animal": np.array([0.6, 0.0, 0.0, 0.0, 0.0])}
    queries = {word: category_queries(IMAGES)[word] for word in ("bird", "animal")}
    result = retrieval_metrics(scores.get, queries, "category", threshold=0.5)
    # chosen: bird 0 (yes), 2 (yes), 3 (the cat: no); animal 0 (yes); relevant: bird 3, animal 4
    assert result["category_match_precision"] == pytest.approx(3 / 4)
    assert result["category_match_recall"] == pytest.approx(3 / 7)
    assert result["category_p@1"] == 1.0


def test_people_queries_come_from_a_people_count():
    images = [LabelledImage(Path(str(i)), "x", Path("."), {"people": count}) for i, count in enumerate(["0", "2", "1"])]
    assert people_queries(images)["person"].tolist() == [False, True, True]
    assert people_queries(IMAGES) == {}
