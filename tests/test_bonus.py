"""A ranking bonus (the class mass of a query, times its weight) is a dense array by photo id."""
from __future__ import annotations

import numpy as np
import pytest

from devsearch.store.derived.bonus import Bonus
from devsearch.store.derived.flat import FlatVectors


def test_an_id_past_the_end_or_without_one_gets_no_bonus():
    bonus = Bonus(np.array([0, 0.5, 0, 2.0], np.float32))
    assert bonus.of([1, 2, 3, 4, 1000]).tolist() == [0.5, 0, 2.0, 0, 0]


def test_bonuses_of_different_lengths_add_up_by_id():
    total = Bonus(np.array([0, 1, 2], np.float32)) + Bonus(np.array([0, 0, 0, 0, 4], np.float32))
    assert total.of([1, 2, 4]).tolist() == [1, 2, 4]


def test_within_keeps_only_the_allowed_ids():
    bonus = Bonus(np.array([0, 1, 2, 3], np.float32)).within(np.array([1, 3, 99]))
    assert bonus.of([1, 2, 3]).tolist() == [1, 0, 3]


def test_the_flat_file_adds_each_photos_bonus_to_its_cosine():
    flat = FlatVectors.of_rows(4, np.array([3, 10, 11, 40]), np.eye(4, dtype=np.float32))
    values = np.zeros(12, np.float32)
    values[[10, 11]] = [0.25, 2.0]  # photo 40 lies past the bonus's end
    query = np.array([1, 0, 0, 0.5], np.float32)
    cosine = query / np.linalg.norm(query)
    hits = flat.knn(query, 4, bonus=Bonus(values))
    assert [photo_id for photo_id, _ in hits] == [11, 3, 40, 10]
    assert [score for _, score in hits] == pytest.approx([2.0, cosine[0], cosine[3], 0.25])
