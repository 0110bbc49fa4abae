"""The real people detectors on the sample photos (slow: the person graph is converted with TensorFlow
into the test cache once)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devsearch.core.photo import decode_photo
from devsearch.model.people import FACE_THRESHOLD, PERSON_THRESHOLD

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def detectors(model_cache):
    from devsearch.model.people_detectors import PeopleDetectors

    found = PeopleDetectors(model_cache)
    found.load()
    return found


def _signal(detectors, name: str):
    whole = decode_photo(SAMPLES / name, keep_whole=True).whole
    return detectors.signal(whole)


@pytest.mark.slow
def test_the_person_graph_is_converted_once_and_then_read_from_the_cache(detectors, model_cache) -> None:
    from devsearch.model.people_detectors import PERSON_GRAPH, PERSON_PACKAGE, asset_path
    from devsearch.model.person_graph import person_model

    converted = person_model(asset_path(PERSON_PACKAGE, PERSON_GRAPH), model_cache)
    before = converted.stat().st_mtime_ns
    assert person_model(asset_path(PERSON_PACKAGE, PERSON_GRAPH), model_cache) == converted
    assert converted.stat().st_mtime_ns == before


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


def test_a_model_file_without_a_signature_runs_through_the_light_runtime() -> None:
    from devsearch.model.people_detectors import FACE_INPUT, FACE_MODEL, FACE_PACKAGE, asset_path
    from devsearch.model.runtime import RuntimeModel

    face = RuntimeModel(asset_path(FACE_PACKAGE, FACE_MODEL), threads=1)
    outputs = face.run({face.inputs[0]: np.zeros((1, FACE_INPUT, FACE_INPUT, 3), dtype=np.float32)})
    assert sorted(out.shape for out in outputs.values()) == [(1, 2304, 1), (1, 2304, 16)]
