"""What a word reaches beyond the classes below its senses: sense weights, scenes, hypernym backoff,
near-duplicate classes and the people detectors' signals (model/word_evidence.py, on the shipped data)."""
from __future__ import annotations

import pytest

from devsearch.model.class_senses import load_class_senses
from devsearch.model.word_evidence import (BACKOFF_DISCOUNT, NEAR_DUPLICATE_SHARE, PEOPLE_DISCOUNT, load_curated,
                                           word_evidence)


def _names(evidence) -> dict[str, float]:
    senses = load_class_senses()
    return {senses.class_sense(i).name: w for i, w in zip(evidence.classes, evidence.weights)}


def test_a_rare_sense_counts_less_than_a_common_one() -> None:
    assert _names(word_evidence("kite")) == {"kite": 0.5}  # the bird is the 4th of 4 senses; the toy has no class
    assert set(_names(word_evidence("dog")).values()) == {1.0}


def test_a_scene_word_reaches_its_scene_classes() -> None:
    beach = word_evidence("beaches")
    assert _names(beach) == {"seashore": 1.0, "sandbar": 1.0}
    assert {beach.routes[i] for i in beach.classes} == {"scene"}


def test_a_word_without_classes_backs_off_to_its_nearest_hypernym_at_a_discount() -> None:
    crow = word_evidence("crow")
    assert _names(crow) == {"magpie": BACKOFF_DISCOUNT, "jay": BACKOFF_DISCOUNT}
    assert [sense.name for sense, _ in crow.backoff] == ["corvine bird"]
    assert _names(word_evidence("cow")) == {"ox": BACKOFF_DISCOUNT}


def test_a_word_with_classes_does_not_back_off() -> None:
    assert word_evidence("dog").backoff == ()


def test_near_duplicate_classes_share_the_word_at_a_discount() -> None:
    assert _names(word_evidence("killer whale")) == {"killer whale": 1.0, "grey whale": NEAR_DUPLICATE_SHARE}
    assert _names(word_evidence("laptop"))["notebook"] == NEAR_DUPLICATE_SHARE


@pytest.mark.parametrize("word", ["person", "someone", "individual"])
def test_person_and_its_synonyms_read_the_person_score_in_full(word) -> None:
    use = word_evidence(word).people
    assert (use.column, use.weight, use.below_person) == ("person_score", 1.0, False)


@pytest.mark.parametrize("word", ["man", "women", "child", "boy", "girl", "baby", "astronaut", "photographer"])
def test_a_kind_of_person_reads_the_person_score_at_a_discount(word) -> None:
    use = word_evidence(word).people
    assert (use.column, use.weight, use.below_person) == ("person_score", PEOPLE_DISCOUNT, True)


@pytest.mark.parametrize(("word", "column"), [("people", "people_count"), ("crowd", "people_count"),
                                              ("group", "people_count"), ("family", "people_count"),
                                              ("portrait", "face_share"), ("selfie", "face_share"),
                                              ("face", "face_share")])
def test_words_about_several_people_or_faces_read_their_column(word, column) -> None:
    assert word_evidence(word).people.column == column


def test_a_rare_sense_below_person_does_not_make_a_word_about_people() -> None:
    assert word_evidence("crow").people is None  # the Crow people: its 3rd sense


def test_every_curated_class_is_an_imagenet_class_and_every_scene_word_reaches_some() -> None:
    curated = load_curated()
    assert curated.scenes and all(0 <= i < 1000 for classes in curated.scenes.values() for i in classes)
    assert all(word_evidence(word).classes for word in curated.scenes)
