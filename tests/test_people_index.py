"""The people signal at indexing time: kept per photo, added to the vector, and gained by photos
indexed before the detectors, once (the detectors here: tests/indexer_support.red_people)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from PIL import Image

from devsearch.core.vectors import unit_rows
from devsearch.indexer.progress import PlainProgress
from devsearch.model.people import with_person
from devsearch.store.catalog import Store
from tests.indexer_support import PERSON_DIRECTION, RED_PEOPLE, index_tree, photo_folder, quadrant_colours


def _people_rows(home: Path) -> dict[str, tuple]:
    with sqlite3.connect(home / "catalog.sqlite") as conn:
        rows = conn.execute("SELECT path, person_score, people_count, face_share FROM photos WHERE status = 'indexed'")
        return {Path(path).name: tuple(rest) for path, *rest in rows}


def _red_and_grey(root: Path) -> Path:
    root.mkdir()
    Image.new("RGB", (80, 60), (220, 20, 20)).save(root / "red.png")
    Image.new("RGB", (80, 60), (128, 128, 128)).save(root / "grey.png")
    return root


def test_each_photo_keeps_its_person_score_people_and_face_share(tmp_path) -> None:
    index_tree(_red_and_grey(tmp_path / "tree"), tmp_path / "home", people=RED_PEOPLE)
    rows = _people_rows(tmp_path / "home")
    assert rows["red.png"] == (1.0, 1, 0.25)
    assert rows["grey.png"] == (0.0, 0, 0.0)


def test_without_the_detectors_the_people_columns_stay_empty(tmp_path) -> None:
    index_tree(_red_and_grey(tmp_path / "tree"), tmp_path / "home")
    assert set(_people_rows(tmp_path / "home").values()) == {(None, None, None)}


def test_a_photo_with_a_person_gains_the_person_component_in_its_vector(tmp_path) -> None:
    index_tree(_red_and_grey(tmp_path / "tree"), tmp_path / "home", people=RED_PEOPLE)
    pixels = np.asarray(Image.new("RGB", (224, 224), (220, 20, 20)))[None]
    with Store.open(tmp_path / "home") as store:
        red = store.find_by_path(tmp_path / "tree" / "red.png")
        stored = store.vector_of(red.id)
    expected = with_person(quadrant_colours(pixels), np.array([1.0]), PERSON_DIRECTION)[0]
    assert np.allclose(stored, expected, atol=1e-6)
    assert float(stored @ PERSON_DIRECTION) > float(unit_rows(quadrant_colours(pixels))[0] @ PERSON_DIRECTION)


def test_photos_indexed_before_the_detectors_gain_the_signal_at_the_next_run_once(tmp_path, capsys) -> None:
    root = photo_folder(tmp_path / "tree", 5)
    index_tree(root, tmp_path / "home")
    again = index_tree(root, tmp_path / "home", people=RED_PEOPLE, progress=PlainProgress(__import__("sys").stderr))
    assert (again.people, again.new, again.updated, again.unchanged) == (5, 0, 0, 0)
    assert "have not looked at 5 indexed photos: decoding them again, once" in capsys.readouterr().err
    assert None not in {value for row in _people_rows(tmp_path / "home").values() for value in row}
    third = index_tree(root, tmp_path / "home", people=RED_PEOPLE)
    assert (third.people, third.unchanged) == (0, 5)


def test_a_word_about_people_reads_the_photos_at_or_above_a_value(tmp_path) -> None:
    index_tree(_red_and_grey(tmp_path / "tree"), tmp_path / "home", people=RED_PEOPLE)
    with Store.open(tmp_path / "home") as store:
        red = store.find_by_path(tmp_path / "tree" / "red.png").id
        grey = store.find_by_path(tmp_path / "tree" / "grey.png").id
        scores = store.people_values("person_score", 0.5)
        faces = store.people_values("face_share", 0.3)
        people = store.people_of([red, grey])
    assert list(scores.of(np.array([red, grey]))) == [1.0, 0.0]
    assert list(faces.of(np.array([red, grey]))) == [0.0, 0.0]
    assert (people[red].people, people[grey].person_score) == (1, 0.0)


def test_the_detectors_see_the_whole_photo_at_shorter_side_256_around_the_networks_crop(tmp_path) -> None:
    from devsearch.core.photo import centre_crop, decode_photo

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 600, 3), dtype=np.uint8)).save(tmp_path / "w.png")
    decoded = decode_photo(tmp_path / "w.png", keep_whole=True)
    assert decoded.whole.shape == (256, 512, 3)
    assert np.array_equal(centre_crop(decoded.whole), decoded.pixels)
    assert decode_photo(tmp_path / "w.png").whole is None
