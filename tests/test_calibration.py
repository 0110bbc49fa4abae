"""The shipped score calibration: one probability per result, from a logistic fit of the raw parts."""
from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from devsearch.model.calibration import KINDS, load_calibration, parse_calibration, word_kind
from devsearch.model.word_evidence import word_evidence


def shipped() -> dict:
    return json.loads(resources.files("devsearch.model").joinpath("data", "calibration.json").read_text())


def test_the_shipped_calibration_says_where_it_came_from_and_how_good_it_is():
    data = shipped()
    assert data["source"] == "scripts/calibrate.py" and data["date"] and data["datasets"]
    assert set(data["metrics"]) >= set(KINDS) and 0 < data["target_precision"] < 1


def test_every_kind_of_query_has_a_fit_and_the_threshold_is_a_probability():
    calibration = load_calibration()
    assert set(calibration.fits) == set(KINDS) and 0 < calibration.threshold < 1


def test_the_probability_rises_with_the_rank_score_and_stays_between_0_and_1():
    fit = load_calibration().fit("words")
    p = fit.probability(np.array([-5.0, 0.0, 0.5, 3.0, 20.0, 1e6]))
    assert np.all(np.diff(p) >= 0) and np.all((p >= 0) & (p <= 1))


def test_the_rank_score_at_a_probability_is_its_inverse():
    fit = load_calibration().fit("words")
    for probability in (0.01, 0.35, 0.9):
        assert float(fit.probability(fit.rank_score_at(probability))) == pytest.approx(probability)
    assert fit.rank_score_at(0.0) == -np.inf and fit.rank_score_at(1.0) == np.inf


def test_a_part_adds_to_the_cosine_as_its_weight_over_the_cosines():
    fit = parse_calibration({"fits": {kind: {"weights": {"cosine": 2.0, "mass": 20.0}, "bias": -1.0} for kind in KINDS},
                             "threshold": 0.5}).fit("words")
    assert fit.bonus_weight("mass") == 10.0 and fit.bonus_weight("people") == 0.0
    assert float(fit.probability(0.5)) == pytest.approx(0.5)


@pytest.mark.parametrize("broken", [
    {"weights": {"cosine": -1.0}, "bias": 0.0},
    {"weights": {"mass": 1.0}, "bias": 0.0},
])
def test_a_fit_that_cannot_rank_is_refused(broken):
    fits = {kind: {"weights": {"cosine": 1.0}, "bias": 0.0} for kind in KINDS}
    with pytest.raises(ValueError, match="cosine"):
        parse_calibration({"fits": {**fits, "words": broken}, "threshold": 0.5})


@pytest.mark.parametrize("word, kind", [
    ("dog", "words"), ("beach", "words"), ("person", "words"), ("people", "words"),  # reached directly
    ("crow", "words_backoff"),  # only its hypernym's classes (magpie, jay)
    ("astronaut", "words_backoff"),  # the person detector, for a kind of person it cannot tell apart
    ("planet", "words_no_class"),
])
def test_a_word_is_scored_by_the_fit_of_how_it_is_reached(word, kind):
    assert word_kind(word_evidence(word)) == kind
