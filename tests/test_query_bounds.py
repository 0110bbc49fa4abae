"""A query's work is bounded whatever it holds: its length and its number of terms have limits (one
line, exit 2), spelling suggestions never grow with the square of a word past the vocabulary's
longest word, weights too large to add are named as not finite, and `--explain` never obeys what
the query text holds."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from devsearch.core.errors import UnknownWordError, UsageError
from devsearch.search.meaning import Explanation, TermSenses
from devsearch.search.query_parser import MAX_QUERY_CHARS, MAX_TERMS, Term, parse_query
from devsearch.search.query_vector import query_vector
from devsearch.search.render import render_explanation
from devsearch.wordspace.lookup import build_lookup
from tests.test_errors import home, one_line_error, run


def test_a_query_over_the_length_limit_is_one_line_with_exit_2(library) -> None:
    long_query = "dog " * (MAX_QUERY_CHARS // 4 + 1)
    one_line_error(run("query", long_query, "--home", home(library)), f"{MAX_QUERY_CHARS:,}", code=2)


def test_the_length_limit_counts_added_and_subtracted_terms(library) -> None:
    half = "dog " * (MAX_QUERY_CHARS // 8 + 1)
    one_line_error(run("query", half, "--add", half, "--home", home(library)), "characters long", code=2)


def test_a_query_with_too_many_terms_is_one_line_with_exit_2(library) -> None:
    many = " + ".join(["dog"] * (MAX_TERMS + 1))
    one_line_error(run("query", many, "--home", home(library)), f"limit of {MAX_TERMS}", code=2)


def test_a_query_at_the_limits_is_answered(library) -> None:
    query = " + ".join(["dog"] * MAX_TERMS)
    assert len(query) <= MAX_QUERY_CHARS
    answered = run("query", query, "--all", "--home", home(library), "--paths", "-n", "1")
    assert answered.exit_code == 0 and answered.stdout.strip().endswith("dog.jpg"), answered.stderr


def test_the_limits_are_checked_before_any_term_is_read() -> None:
    # a term that names a missing photo would be an ImageError if it were looked at
    with pytest.raises(UsageError, match="characters long"):
        parse_query("./missing.jpg + " + "x" * MAX_QUERY_CHARS)


@pytest.fixture
def lookup(tmp_path):
    words = ["dog", "dogs", "cat", "beach", "retriever"]
    return build_lookup(words, np.eye(len(words), dtype=np.float32), tmp_path / "words")


def test_a_misspelt_word_still_gets_suggestions(lookup) -> None:
    with pytest.raises(UnknownWordError) as raised:
        lookup.vector("retreiver")
    assert raised.value.suggestions[0] == "retriever"


def test_a_word_longer_than_any_known_word_costs_no_suggestion_work(lookup) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(UnknownWordError) as raised:
            lookup.vector("q" * 900)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.suggestions == []
    assert peak < 1_000_000  # every one-letter edit of a 900-letter word: about 50 MB


def test_weights_whose_sum_overflows_are_named_not_finite() -> None:
    with pytest.raises(UsageError, match="not finite") as raised:
        parse_query("1e308:dog + 1e308:cat")
    assert "cancel" not in str(raised.value)


def test_huge_finite_weights_keep_their_direction() -> None:
    vectors = {"dog": np.array([1, 0], dtype=np.float32), "cat": np.array([0, 1], dtype=np.float32)}
    terms = [Term(3e38, "dog"), Term(3e38, "cat")]  # their float32 sum would overflow
    np.testing.assert_allclose(query_vector(terms, vectors.__getitem__, None, 2), [2 ** -0.5, 2 ** -0.5], rtol=1e-6)


def test_explain_shows_escapes_and_bidi_overrides_neutralised() -> None:
    typed = "\x1b[31mdog\u202egnp.exe"
    shown = render_explanation(Explanation(typed, (TermSenses(typed, 1.0, ()),), conjunction=False))
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "\\e[31mdog\\u202egnp.exe" in shown
