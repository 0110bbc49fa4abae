"""Words about people read the people detectors' signals at query time: `person` the person score,
a kind of person (`man`) the same at a discount, `people` the number of people, `portrait` the face share."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.model.calibration import load_calibration
from devsearch.model.people import PeopleSignal
from devsearch.search.engine import search_text
from tests.tiny_library import build_store, photo_file

WORDS = ("person", "people", "man", "portrait", "tree")
PHOTOS = {  # name: (person score, people, face share); every vector the same, so only the signals rank them
    "tree.jpg": (0.05, 0, 0.0),
    "unseen.jpg": None,  # indexed without the detectors
    "walker.jpg": (0.9, 1, 0.0),
    "portrait.jpg": (0.98, 1, 0.2),
    "crowd.jpg": (0.99, 5, 0.01),
}


@pytest.fixture
def people_store(tmp_path: Path):
    files = {name: photo_file(tmp_path / "photos", name) for name in PHOTOS}
    vector = np.ones(len(WORDS), dtype=np.float32) / np.sqrt(len(WORDS))
    settings = build_store(tmp_path / "home", tmp_path / "model", {path: (vector, None) for path in files.values()},
                           people={files[n]: PeopleSignal(*v) for n, v in PHOTOS.items() if v is not None},
                           words=WORDS)
    return settings


def _names(settings, query: str) -> list[str]:
    return [Path(r.path).name for r in search_text(query, settings, n=5)]


def test_person_ranks_photos_by_the_person_score(people_store) -> None:
    assert _names(people_store, "person")[:3] == ["crowd.jpg", "portrait.jpg", "walker.jpg"]


def test_people_ranks_by_the_number_of_people(people_store) -> None:
    assert _names(people_store, "people")[0] == "crowd.jpg"


def test_portrait_ranks_by_the_share_of_the_largest_face(people_store) -> None:
    assert _names(people_store, "portrait")[0] == "portrait.jpg"


def test_a_kind_of_person_reads_the_person_score_at_a_discount(people_store) -> None:
    person = {Path(r.path).name: r.people for r in search_text("person", people_store, n=5)}
    man = {Path(r.path).name: r.people for r in search_text("man", people_store, n=5)}
    assert man["walker.jpg"] == pytest.approx(0.6 * person["walker.jpg"])
    assert _names(people_store, "man")[:3] == ["crowd.jpg", "portrait.jpg", "walker.jpg"]


def test_a_word_with_nothing_to_do_with_people_reads_no_people_signal(people_store) -> None:
    assert {r.people for r in search_text("tree", people_store, n=5)} == {0.0}


def test_json_carries_the_people_signal_and_why_names_the_detector(people_store) -> None:
    result = CliRunner().invoke(app, ["query", "person", "--home", str(people_store.home), "--json", "-n", "1"])
    row = json.loads(result.stdout)[0]
    assert row["people"] == pytest.approx(0.99, abs=1e-4)
    assert row["why"][0] == {"class": "a person (detector)", "wnid": "person_score", "p": 0.99}
    fit = load_calibration().fit("words")
    raw = row["cosine"] + fit.bonus_weight("mass") * row["mass"] + fit.bonus_weight("people") * row["people"]
    assert row["score"] == pytest.approx(float(fit.probability(raw)), abs=1e-4) and row["match"]
    assert row["reasons"][0] == "a person (detector 0.99)"


def test_explain_says_a_kind_of_person_cannot_be_told_apart(people_store) -> None:
    result = CliRunner().invoke(app, ["query", "man", "--home", str(people_store.home), "--explain", "--paths"])
    assert "people: the person detector's score (person_score), at 0.6: a man cannot be told apart from any other person" \
        in result.stderr
    assert "backoff: no class below man; its hypernym person" in result.stderr
