"""Term arithmetic: unit vectors summed with weights, unit-normed; images only through the callback."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devsearch.core.errors import UsageError
from devsearch.search.query_parser import Term
from devsearch.search.query_vector import query_vector

WORDS = {"dog": np.array([1, 0, 0], np.float32), "beach": np.array([0, 1, 0], np.float32),
         "people": np.array([0, 0, 1], np.float32)}


def no_images(paths):
    raise AssertionError("a text-only query must not embed images")


def test_single_word_is_its_own_vector():
    vec = query_vector([Term(1.0, "dog")], WORDS.__getitem__, no_images, 3)
    np.testing.assert_allclose(vec, [1, 0, 0])


def test_weighted_sum_is_unit_normed():
    terms = [Term(2.0, "dog"), Term(1.0, "beach"), Term(-1.0, "people")]
    vec = query_vector(terms, WORDS.__getitem__, no_images, 3)
    np.testing.assert_allclose(vec, np.array([2, 1, -1]) / np.sqrt(6), rtol=1e-6)
    assert vec.dtype == np.float32


def test_terms_are_normed_before_weighting():
    words = {"long": np.array([10, 0], np.float32), "short": np.array([0, 1], np.float32)}
    vec = query_vector([Term(1.0, "long"), Term(1.0, "short")], words.__getitem__, None, 2)
    np.testing.assert_allclose(vec, np.array([1, 1]) / np.sqrt(2), rtol=1e-6)


def test_images_are_embedded_in_one_call():
    calls = []

    def embed(paths):
        calls.append(list(paths))
        return np.array([[0, 3, 0], [0, 0, 2]], np.float32)

    terms = [Term(1.0, "a.jpg", Path("/a.jpg")), Term(1.0, "dog"), Term(-1.0, "b.jpg", Path("/b.jpg"))]
    vec = query_vector(terms, WORDS.__getitem__, embed, 3)
    assert calls == [[Path("/a.jpg"), Path("/b.jpg")]]
    np.testing.assert_allclose(vec, np.array([1, 1, -1]) / np.sqrt(3), rtol=1e-6)


def test_cancelling_terms_are_a_usage_error():
    with pytest.raises(UsageError, match="cancel out"):
        query_vector([Term(1.0, "dog"), Term(-1.0, "dog")], WORDS.__getitem__, None, 3)


def test_wrong_dimensions_are_a_usage_error():
    with pytest.raises(UsageError, match="do not match"):
        query_vector([Term(1.0, "dog")], WORDS.__getitem__, None, 4)
