"""One score in [0, 1] for every result: how likely the photo shows what was asked.

A result's raw parts (the cosine of its vector to the query's, the classifier's mass on the query
words' classes, and any further signal) are combined by a logistic fit, made on the development data
by scripts/calibrate.py and shipped as model/data/calibration.json:

    probability = sigmoid(bias + sum of weight[part] x part)

The fit is linear in the parts, so ranking by it is ranking by `cosine + sum of (weight[part] /
weight[cosine]) x part`: the store's k-NN adds that sum as a bonus to each photo's cosine, and the
probability is a monotone function of what it returns. A query is scored by the fit of its kind:
`words` for a word that reaches ImageNet classes through its senses or the scene map, or a people
signal of its own; `words_backoff` for one reached only through a relative: its hypernym's classes,
or the person detector for a kind of person (`astronaut`, `man`) it cannot tell apart (weaker
evidence: model/word_evidence.py); `words_no_class` for one that reaches nothing (its raw parts are the cosine
alone); `similar` for photos like a photo (`devsearch similar`, a query made
of photos: the cosine and the cosine of the two photos' class probabilities) and `similar_no_class`
for a store that keeps no classes. A result is a match when its probability reaches the shipped
threshold.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from devsearch.core.errors import AssetMissingError
from devsearch.model.word_evidence import WordEvidence

DATA_FILE = "calibration.json"
KINDS = ("words", "words_backoff", "words_no_class", "similar", "similar_no_class")
_LOGIT_LIMIT = 40.0  # sigmoid is 0 or 1 to float precision beyond this


@dataclass(frozen=True)
class Fit:
    """A logistic fit of "the photo shows what was asked" on named raw parts (cosine first)."""

    weights: Mapping[str, float]
    bias: float

    @property
    def slope(self) -> float:
        """The weight of the cosine: the rank score's scale in the logit (always positive)."""
        return self.weights["cosine"]

    def bonus_weight(self, part: str) -> float:
        """How much of a part is added to the cosine in the rank score (0 for a part not fitted)."""
        return self.weights.get(part, 0.0) / self.slope

    def probability(self, rank_score: np.ndarray | float) -> np.ndarray:
        """The calibrated probability of rank scores (cosine + the parts' bonus)."""
        logit = np.clip(self.bias + self.slope * np.asarray(rank_score, dtype=np.float64), -_LOGIT_LIMIT, _LOGIT_LIMIT)
        return 1.0 / (1.0 + np.exp(-logit))

    def rank_score_at(self, probability: float) -> float:
        """The rank score whose probability is `probability` (for --min-score): -inf at 0, inf at 1."""
        if probability <= 0.0:
            return -math.inf
        if probability >= 1.0:
            return math.inf
        return (math.log(probability / (1.0 - probability)) - self.bias) / self.slope

    def as_dict(self) -> dict:
        return {"weights": dict(self.weights), "bias": self.bias}


@dataclass(frozen=True)
class Calibration:
    """The shipped fits by query kind, the match threshold, and where they came from."""

    fits: Mapping[str, Fit]
    threshold: float
    about: Mapping[str, object]

    def fit(self, kind: str) -> Fit:
        return self.fits[kind]


def parse_calibration(data: Mapping) -> Calibration:
    """A Calibration from calibration.json's mapping; ValueError when a kind or the cosine is missing."""
    fits = {}
    for kind in KINDS:
        entry = data["fits"][kind]
        weights = {str(name): float(value) for name, value in entry["weights"].items()}
        if weights.get("cosine", 0.0) <= 0.0:
            raise ValueError(f"the {kind} fit has no positive cosine weight")
        fits[kind] = Fit(weights, float(entry["bias"]))
    threshold = float(data["threshold"])
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold {threshold} is not between 0 and 1")
    return Calibration(fits, threshold, {key: value for key, value in data.items() if key not in ("fits", "threshold")})


def word_kind(evidence: WordEvidence) -> str:
    """The fit a word is scored by (see the module doc): a word reached only through a relative (its
    hypernym's classes, or the person detector for a kind of person it cannot tell apart) is weaker
    evidence than one reached directly."""
    if not evidence:
        return "words_no_class"
    indirect_people = evidence.people is None or evidence.people.below_person
    if not evidence.senses and not evidence.scene and indirect_people:
        return "words_backoff"
    return "words"


@lru_cache(maxsize=1)
def load_calibration() -> Calibration:
    """The shipped calibration (one small JSON file read per process)."""
    try:
        text = resources.files("devsearch.model").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
        return parse_calibration(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetMissingError(f"the score calibration ({DATA_FILE}) is missing or damaged: reinstall devsearch "
                                f"or run scripts/calibrate.py ({exc})") from None
