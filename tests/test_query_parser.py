"""Query grammar: terms, operators, weights, image terms, and the errors a user can cause."""
from __future__ import annotations

import pytest

from devsearch.core.errors import ImageError, UsageError
from devsearch.search.query_parser import looks_like_image, parse_query, split_terms


def test_single_word_is_one_unit_weight_term():
    (term,) = parse_query("dog")
    assert (term.weight, term.text, term.is_image) == (1.0, "dog", False)


def test_phrase_stays_one_term_with_spaces_normalised():
    (term,) = parse_query("  golden   retriever ")
    assert term.text == "golden retriever"


def test_plus_and_minus_with_weights():
    terms = parse_query("2:golden retriever + beach - 0.5:people")
    assert [(t.weight, t.text) for t in terms] == [(2.0, "golden retriever"), (1.0, "beach"), (-0.5, "people")]


def test_hyphen_without_spaces_is_part_of_the_word():
    assert [t.text for t in parse_query("golden-retriever - cat")] == ["golden-retriever", "cat"]


def test_leading_operator_applies_to_first_term():
    assert [(s, r) for s, r in split_terms("- cat + dog")] == [(-1.0, "cat"), (1.0, "dog")]


def test_negative_and_exponent_weights():
    assert [t.weight for t in parse_query("-2:dog + 1e-1:cat")] == [-2.0, 0.1]


def test_add_and_subtract_options_append_terms():
    terms = parse_query("dog", add=["3:beach"], subtract=["people"])
    assert [(t.weight, t.text) for t in terms] == [(1.0, "dog"), (3.0, "beach"), (-1.0, "people")]


def test_add_alone_is_a_query():
    assert [t.text for t in parse_query("", add=["dog"])] == ["dog"]


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_query_is_a_usage_error(text):
    with pytest.raises(UsageError, match="empty query"):
        parse_query(text)


@pytest.mark.parametrize("text", ["dog +", "dog + - cat", "2:"])
def test_empty_term_is_a_usage_error(text):
    with pytest.raises(UsageError, match="empty term"):
        parse_query(text)


def test_existing_file_is_an_image_term(tmp_path, monkeypatch):
    (tmp_path / "beach").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    (term,) = parse_query("beach")
    assert term.image == tmp_path / "beach"


def test_path_in_arithmetic_is_resolved(tmp_path):
    photo = tmp_path / "my-pool.jpg"
    photo.write_bytes(b"x")
    terms = parse_query(f"dog + 0.5:{photo}")
    assert terms[1].image == photo and terms[1].weight == 0.5


@pytest.mark.parametrize("text", ["./nothing/here", "missing.jpg", "holiday.PNG"])
def test_missing_path_like_term_is_an_image_error(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageError, match="no such photo"):
        parse_query(f"dog + {text}")


def test_folder_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="directory"):
        parse_query(str(tmp_path))


@pytest.mark.parametrize("text,expected", [("dog", False), ("a/b", True), ("x.jpeg", True), ("x.tif", True), ("3.5", False)])
def test_looks_like_image(text, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert looks_like_image(text) is expected
