"""Ranking by meaning on a real store: photos rank by cosine + w x mass (mass from the photos' kept top
classes) and score the calibrated probability of that (model/calibration.py); only matches are printed.

The photos' vectors and top classes are written by hand through the store's writer, and the word
space is a tiny bundle-local one (one axis per word), so every number here can be summed by hand.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.settings import Settings
from devsearch.model.class_senses import load_class_senses
from devsearch.model.manifest import BUNDLED_WORDS_DIR, Manifest, write_manifest
from devsearch.model.calibration import load_calibration
from devsearch.search.engine import search_text
from devsearch.search.render import render_score
from devsearch.store.catalog import Store
from devsearch.store.kept_classes import TopClasses
from devsearch.store.hashing import content_hash
from devsearch.store.records import ChangeSet, EmbeddedPhoto
from devsearch.wordspace.lookup import build_lookup

WORDS = ("bird", "cat", "planet", "sea")
TOUCAN, GOLDFINCH, TABBY, EGYPTIAN_CAT, SEASHORE = 96, 11, 281, 285, 978
FINGERPRINT = "test:0000/conse+tiny:0000"


def axis(*weights: float) -> np.ndarray:
    vector = np.asarray(weights, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def classes(**by_class: float) -> TopClasses:
    ids = [int(name.removeprefix("c")) for name in by_class]
    return TopClasses(np.array(ids), np.array(list(by_class.values()), dtype=np.float32))


# name: (vector over (bird, cat, planet, sea), kept top classes)
PHOTOS = {
    # a cat photo whose vector sits near "bird" (as GloVe's cos(bird, cat) = .70 would put it)
    "cat_near_bird": (axis(0.9, 1, 0, 0), classes(c281=0.6, c285=0.3, c978=0.1)),
    # a bird photo whose vector says little about birds
    "toucan": (axis(0.2, 0.3, 0, 1), classes(c96=0.5, c11=0.2, c281=0.3)),
    "seashore": (axis(0, 0, 0.3, 1), classes(c978=0.9, c11=0.05, c285=0.05)),
    "no_classes": (axis(0.1, 0, 1, 0), None),
}


@pytest.fixture
def store_home(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    build_lookup(list(WORDS), np.eye(len(WORDS), dtype=np.float32), model / BUNDLED_WORDS_DIR, source="test")
    manifest = Manifest(fingerprint=FINGERPRINT, dims=len(WORDS), words=BUNDLED_WORDS_DIR, words_name="tiny",
                        backbone="test", head="conse", labels="imagenet-1k")
    write_manifest(model, manifest)
    (tmp_path / "photos").mkdir()
    embedded = []
    for name, (vector, top) in PHOTOS.items():
        path = tmp_path / "photos" / f"{name}.jpg"
        path.write_bytes(f"photo {name}".encode())
        stat = path.stat()
        embedded.append(EmbeddedPhoto(str(path), stat.st_size, stat.st_mtime, content_hash(path), 64, 48, None,
                                      vector, top))
    with Store.open(tmp_path / "home", writer=True) as store:
        store.bind_model(manifest.at(model))
        store.commit(ChangeSet(embedded=embedded))
    return tmp_path / "home"


def query(home: Path, text: str, n: int = 10, **options):
    return search_text(text, Settings(home=home, cache=home.parent / "cache", model=None), n, **options)


def by_name(results) -> dict:
    return {Path(r.path).stem: r for r in results}


def test_a_general_word_ranks_the_photo_of_its_kind_above_a_closer_vector(store_home):
    results = query(store_home, "bird")
    assert [Path(r.path).stem for r in results][:2] == ["toucan", "cat_near_bird"]
    assert by_name(results)["cat_near_bird"].cosine > by_name(results)["toucan"].cosine


def test_the_mass_is_the_sum_of_the_probabilities_on_the_classes_below_the_word(store_home):
    bird_classes = set(load_class_senses().covered("bird"))
    assert {TOUCAN, GOLDFINCH} <= bird_classes and TABBY not in bird_classes
    results = by_name(query(store_home, "bird"))
    assert results["toucan"].mass == pytest.approx(0.5 + 0.2)
    assert results["seashore"].mass == pytest.approx(0.05)
    assert results["cat_near_bird"].mass == 0 and results["no_classes"].mass == 0
    fit = load_calibration().fit("words")
    assert results["toucan"].score == pytest.approx(fit.probability(results["toucan"].cosine + fit.bonus_weight("mass") * 0.7))


def test_the_classes_that_carried_the_mass_say_why(store_home):
    toucan = by_name(query(store_home, "bird"))["toucan"]
    assert [(reason.name, reason.wnid, reason.p) for reason in toucan.why] == [
        ("toucan", "n01843383", pytest.approx(0.5)), ("goldfinch", "n01531178", pytest.approx(0.2))]


def test_a_word_with_no_class_below_it_ranks_by_cosine(store_home):
    assert load_class_senses().covered("planet") == []
    results = query(store_home, "planet")
    assert [Path(r.path).stem for r in results][0] == "no_classes"
    fit = load_calibration().fit("words_no_class")
    assert all(r.mass == 0 and r.why == () and r.score == pytest.approx(fit.probability(r.cosine)) for r in results)
    assert [r.cosine for r in results] == sorted((r.cosine for r in results), reverse=True)


def test_weights_apply_to_the_mass_too(store_home):
    results = by_name(query(store_home, "bird - cat"))
    cat_classes = set(load_class_senses().covered("cat"))
    assert {TABBY, EGYPTIAN_CAT} <= cat_classes
    assert results["toucan"].mass == pytest.approx((0.7 - 0.3) / 2)
    assert results["cat_near_bird"].mass == pytest.approx(-0.9 / 2)


def test_a_photo_term_weighs_the_cosine_of_the_two_photos_class_probabilities(store_home):
    toucan = {TOUCAN: 0.5, GOLDFINCH: 0.2, TABBY: 0.3}
    cat = {TABBY: 0.6, EGYPTIAN_CAT: 0.3, SEASHORE: 0.1}
    cosine = sum(p * cat.get(c, 0) for c, p in toucan.items()) / np.linalg.norm(list(toucan.values())) / np.linalg.norm(list(cat.values()))
    results = by_name(query(store_home, f"{store_home.parent / 'photos' / 'toucan.jpg'} + 3:bird"))
    assert results["toucan"].mass == pytest.approx((1 + 3 * 0.7) / 4, abs=1e-5)
    assert results["cat_near_bird"].mass == pytest.approx(cosine / 4, abs=1e-5)


def test_min_score_drops_results_below_it_on_the_calibrated_scale(store_home):
    results = query(store_home, "bird", min_score=0.5)
    assert [Path(r.path).stem for r in results] == ["toucan"] and results[0].score >= 0.5 and results[0].match


def test_min_score_above_every_result_is_an_empty_list_said_on_stderr(store_home):
    result = CliRunner().invoke(app, ["query", "bird", "--home", str(store_home), "--json", "--min-score", "0.999"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [] and "no photos matched with a score of at least 0.999" in result.stderr


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_min_score_off_the_scale_is_refused(store_home, value):
    result = CliRunner().invoke(app, ["query", "bird", "--home", str(store_home), "--min-score", value])
    assert result.exit_code == 2 and "give a score from 0 to 1" in result.stderr


def test_json_carries_the_score_parts_the_match_and_the_reasons(store_home):
    result = CliRunner().invoke(app, ["query", "bird", "-n", "1", "--home", str(store_home), "--json"])
    row = json.loads(result.stdout)[0]
    assert (row["mass"], row["why"][0]) == (pytest.approx(0.7), {"class": "toucan", "wnid": "n01843383", "p": 0.5})
    fit = load_calibration().fit("words")
    assert row["score"] == pytest.approx(fit.probability(row["cosine"] + fit.bonus_weight("mass") * row["mass"]), abs=1e-5)
    assert row["match"] is True and row["reasons"] == ["toucan 50%", "goldfinch 20%"]


def test_query_prints_the_matches_and_says_how_many_related_photos_follow(store_home):
    result = CliRunner().invoke(app, ["query", "bird", "--home", str(store_home), "--paths"])
    assert result.exit_code == 0 and result.stdout == f"{store_home.parent / 'photos' / 'toucan.jpg'}\n"
    assert "1 photo clearly shows 'bird'; 3 related ones follow with --all" in result.stderr


def test_a_query_nothing_clearly_shows_prints_nothing_and_says_so(store_home):
    result = CliRunner().invoke(app, ["query", "planet", "--home", str(store_home), "--paths"])
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no photo clearly shows 'planet'; 4 related ones: --all" in result.stderr


def test_all_lists_the_related_photos_after_the_matches(store_home):
    result = CliRunner().invoke(app, ["query", "bird", "--all", "--home", str(store_home), "--json"])
    rows = json.loads(result.stdout)
    assert [row["match"] for row in rows] == [True, False, False, False] and Path(rows[0]["path"]).stem == "toucan"
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)


def test_a_phrase_the_vocabulary_lacks_ranks_photos_showing_each_word_first(store_home):
    results = query(store_home, "cat and bird", n=4)
    assert Path(results[0].path).stem == "toucan"  # a bird, and a tabby at 0.3: the only photo showing both
    first = results[0]
    assert [part.word for part in first.words] == ["cat", "bird"] and first.cosine is None
    assert first.score == pytest.approx(first.words[0].score * first.words[1].score)
    assert first.words[1].why[0].name == "toucan" and first.words[0].why[0].name == "tabby"


def test_explain_names_the_senses_the_classes_and_the_threshold(store_home):
    result = CliRunner().invoke(app, ["query", "bird + planet", "--all", "--home", str(store_home), "--paths",
                                      "--explain"])
    assert result.exit_code == 0 and result.stdout.startswith(str(store_home.parent / "photos" / "toucan.jpg"))
    assert "bird (n01503061; bird; counts 1): " in result.stderr and "goldfinch" in result.stderr and "(59 in all)" in result.stderr
    assert "planet: no ImageNet class or detector reaches it: scored by closeness in meaning" in result.stderr
    assert f"match threshold: {load_calibration().threshold:.0%}" in result.stderr


def test_explain_of_a_phrase_the_vocabulary_lacks_names_each_word(store_home):
    result = CliRunner().invoke(app, ["query", "cat and bird", "--home", str(store_home), "--paths", "--explain"])
    assert "photos showing each of cat, bird rank first" in result.stderr
    assert re.search(r"^cat: \d+ senses? with classes, scored by", result.stderr, re.M)
    assert re.search(r"^bird: \d+ senses? with classes, scored by", result.stderr, re.M)


def test_the_table_shows_the_score_as_a_percentage_and_why_in_plain_words(store_home):
    result = CliRunner().invoke(app, ["query", "bird", "-n", "1", "--home", str(store_home), "--no-thumbnails"],
                                env={"COLUMNS": "200"})
    row = next(line for line in result.stdout.splitlines() if "toucan.jpg" in line)
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells[1] == render_score(query(store_home, "bird", n=1)[0].score) and cells[-1] == "toucan 50%, goldfinch 20%"
