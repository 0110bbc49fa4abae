"""A phrase the vocabulary does not hold is a conjunction of its content words; a known phrase, one
word and arithmetic keep their meaning."""
from __future__ import annotations

import numpy as np
import pytest

from devsearch.search.phrases import content_words
from devsearch.search.query_parser import parse_query
from devsearch.wordspace.lookup import build_lookup

WORDS = ["dog", "beach", "on", "the", "golden", "retriever", "cup", "of", "coffee", "ice_cream", "man", "with", "camera"]


@pytest.fixture(scope="module")
def lookup(tmp_path_factory):
    return build_lookup(WORDS, np.eye(len(WORDS), dtype=np.float32), tmp_path_factory.mktemp("words") / "w")


@pytest.mark.parametrize("query, words", [
    ("dog on beach", ["dog", "beach"]),
    ("man with camera", ["man", "camera"]),
    ("cup of coffee", ["cup", "coffee"]),
    ("the beach", ["beach"]),
    ("Dog on the beach dog", ["dog", "beach"]),
])
def test_a_phrase_the_vocabulary_lacks_is_its_content_words(lookup, query, words):
    assert content_words(parse_query(query, files=False), lookup) == words


@pytest.mark.parametrize("query", [
    "dog",  # one word
    "golden retriever",  # a WordNet noun
    "ice cream",  # one token of the word space (ice_cream) and a WordNet noun
    "dog + beach",  # arithmetic
    "2:dog on beach",  # a weight
    "dog on beach - cup",
])
def test_a_known_phrase_one_word_and_arithmetic_keep_their_meaning(lookup, query):
    assert content_words(parse_query(query, files=False), lookup) is None
