"""Property tests (hypothesis) for the query grammar: whatever the text, parsing ends in terms with
finite weights or in one of the errors a user can cause, and weighted terms read back as written."""
from __future__ import annotations

import math

from hypothesis import assume, example, given, settings, strategies as st

from devsearch.core.errors import ImageError, UsageError
from devsearch.search.query_parser import STOP_WORDS, parse_query

words = st.text(st.characters(whitelist_categories=("Ll",), max_codepoint=0x7F), min_size=1, max_size=8).filter(
    lambda w: w not in STOP_WORDS)
weights = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda w: w == 0 or abs(w) > 1e-6)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
@example(text="~0")  # no user named 0: pathlib's expanduser raised RuntimeError
@example(text="a/\x00.jpg")  # a NUL byte: os.stat raised ValueError
def test_any_text_parses_or_is_a_user_error(text: str) -> None:
    try:
        terms = parse_query(text)
    except (UsageError, ImageError):
        return
    assert terms and all(math.isfinite(term.weight) and term.text for term in terms)


@settings(max_examples=200, deadline=None)
@given(terms=st.lists(st.tuples(weights, words), min_size=1, max_size=4))
def test_weighted_terms_read_back_as_written(terms) -> None:
    query = " + ".join(f"{weight!r}:{word}" for weight, word in terms)
    assert [(t.weight, t.text) for t in parse_query(query)] == [(float(w), word) for w, word in terms]


@settings(max_examples=100, deadline=None)
@given(first=st.tuples(weights, words), rest=st.lists(st.tuples(st.sampled_from("+-"), words), max_size=3))
def test_an_operator_gives_its_sign_to_the_term_after_it(first, rest) -> None:
    weight, word = first
    query = f"{weight!r}:{word}" + "".join(f" {op} {w}" for op, w in rest)
    parsed = parse_query(query)
    assert [t.weight for t in parsed[1:]] == [1.0 if op == "+" else -1.0 for op, _ in rest]


@settings(max_examples=100, deadline=None)
@given(exponent=st.integers(309, 400), word=words)
def test_an_overflowing_weight_is_refused_as_not_finite(exponent: int, word: str) -> None:
    try:
        parse_query(f"1e{exponent}:{word}")
    except UsageError as err:
        assert "not a finite number" in str(err)
    else:
        raise AssertionError("an infinite weight was accepted")


@settings(max_examples=100, deadline=None)
@given(stop=st.lists(st.sampled_from(sorted(STOP_WORDS)), min_size=1, max_size=3))
def test_stop_words_alone_are_refused(stop) -> None:
    assume(all("'" not in word for word in stop))
    try:
        parse_query(" ".join(stop))
    except UsageError as err:
        assert "only stop words" in str(err)
    else:
        raise AssertionError("a query of stop words only was accepted")
