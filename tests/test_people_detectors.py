"""The real people detectors on the sample photos (slow: they load TensorFlow graphs)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devsearch.core.photo import decode_photo
from devsearch.model.people import FACE_THRESHOLD, PERSON_THRESHOLD

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def detectors():
    from devsearch.model.backend import import_keras
    from devsearch.model.people_detectors import PeopleDetectors

    import_keras("tensorflow")
    found = PeopleDetectors()
    found.load()
    return found


def _signal(detectors, name: str):
    whole = decode_photo(SAMPLES / name, keep_whole=True).whole
    return detectors.signal(whole)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["astronaut.jpg", "photographer.jpg"])
def test_a_photo_of_a_person_has_one_person_and_a_face(detectors, name) -> None:
    signal = _signal(detectors, name)
    assert signal.person_score >= PERSON_THRESHOLD and signal.people == 1
    assert 0 < signal.face_share < 0.5


@pytest.mark.slow
def test_a_photo_of_a_cat_has_no_person_and_no_face(detectors) -> None:
    signal = _signal(detectors, "cat.jpg")
    assert signal.person_score < PERSON_THRESHOLD and signal.people == 0 and signal.face_share == 0.0
