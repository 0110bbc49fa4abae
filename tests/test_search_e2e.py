"""End to end on real photos with the real default model: index once, then query and similar.

One store per module (indexing loads TensorFlow and the weights); the photos are the committed
fixtures plus a mirrored, cropped cat ("another cat photo") with an EXIF capture date.
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageOps
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.settings import Settings
from devsearch.indexer.service import index_paths
from devsearch.model.calibration import load_calibration
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

OLD = datetime(2015, 6, 1).timestamp()
CATS = {"chelsea.jpg", "cat-mirrored.jpg"}


def cat_variant(out: Path, box: tuple[float, float, float, float], taken: str | None = None) -> Path:
    """A mirrored crop of the committed cat photo, optionally with an EXIF date."""
    with Image.open(FIXTURES / "chelsea.jpg") as image:
        w, h = image.size
        crop = ImageOps.mirror(image).crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
        exif = Image.Exif()
        if taken:
            exif[ExifTags.Base.DateTime] = taken
        out.parent.mkdir(parents=True, exist_ok=True)
        crop.save(out, quality=92, exif=exif)
    return out


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict:
    base = tmp_path_factory.mktemp("search-e2e")
    photos = base / "photos"
    photos.mkdir()
    for name in ("chelsea.jpg", "coffee.jpg", "rocket.jpg", "astronaut.jpg", "owl.jpg"):
        shutil.copy(FIXTURES / name, photos / name)
    cat_variant(photos / "cats" / "cat-mirrored.jpg", (0.05, 0.03, 0.95, 0.97), taken="2024:05:01 12:00:00")
    for path in photos.rglob("*.jpg"):
        os.utime(path, (OLD, OLD))
    settings = Settings(home=base / "home", cache=model_cache)
    summary = index_paths([photos], settings)
    assert summary.new == 6 and not summary.failed
    return {"base": base, "photos": photos, "home": str(settings.home)}


def run(indexed: dict, *args: str):
    result = CliRunner().invoke(app, [*args, "--home", indexed["home"]])
    return result


def names(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [Path(line).name for line in result.stdout.splitlines()]


def test_query_cat_ranks_the_cats_first(indexed):
    assert set(names(run(indexed, "query", "cat", "--all", "--paths"))[:2]) == CATS


def test_query_cat_prints_the_cats_alone_and_says_how_many_related_photos_follow(indexed):
    result = run(indexed, "query", "cat", "--paths")
    assert set(names(result)) == CATS and "2 photos clearly show 'cat'; " in result.stderr


def test_query_bird_ranks_the_bird_above_the_cats(indexed):
    found = names(run(indexed, "query", "bird", "--all", "--paths"))
    assert found[0] == "owl.jpg" and found.index("owl.jpg") < min(found.index(cat) for cat in CATS)


def test_query_coffee_ranks_the_coffee_photo_first(indexed):
    assert names(run(indexed, "query", "coffee", "--paths"))[0] == "coffee.jpg"


def test_similar_leaves_itself_out_and_finds_the_other_cat(indexed):
    found = names(run(indexed, "similar", str(indexed["photos"] / "chelsea.jpg"), "--all", "--paths"))
    assert found[0] == "cat-mirrored.jpg" and "chelsea.jpg" not in found and len(found) == 5


def test_similar_on_a_photo_outside_the_store_runs_the_network(indexed):
    outside = cat_variant(indexed["base"] / "outside" / "another-cat.jpg", (0.2, 0.1, 0.9, 1.0))
    assert set(names(run(indexed, "similar", str(outside), "--all", "--paths", "-n", "2"))) == CATS


def test_arithmetic_moves_the_ranking(indexed):
    assert names(run(indexed, "query", "cat", "--all", "--paths"))[0] != "coffee.jpg"
    assert names(run(indexed, "query", "cat + 3:coffee", "--all", "--paths"))[0] == "coffee.jpg"
    rocket = str(indexed["photos"] / "rocket.jpg")
    assert names(run(indexed, "query", "coffee", "--all", "--add", f"2:{rocket}", "--paths"))[0] == "rocket.jpg"


def test_in_and_after_filter(indexed):
    assert names(run(indexed, "query", "coffee", "--all", "--in", str(indexed["photos"] / "cats"), "--paths")) == ["cat-mirrored.jpg"]
    assert names(run(indexed, "query", "coffee", "--all", "--after", "2024-01-01", "--paths")) == ["cat-mirrored.jpg"]
    assert "cat-mirrored.jpg" not in names(run(indexed, "query", "cat", "--all", "--before", "2020-01-01", "--paths"))


def test_json_parses_with_the_keys(indexed):
    result = run(indexed, "query", "cat", "--all", "--json", "-n", "2")
    rows = json.loads(result.stdout)
    assert [list(r) for r in rows] == [["rank", "score", "match", "path", "width", "height", "taken", "date", "dated_by",
                                        "cosine", "mass", "people", "why", "reasons"]] * 2
    fit = load_calibration().fit("words")
    assert rows[0]["why"] and rows[0]["score"] == pytest.approx(
        float(fit.probability(rows[0]["cosine"] + fit.bonus_weight("mass") * rows[0]["mass"])), abs=1e-5)
    mirrored = json.loads(run(indexed, "query", "cat", "--all", "--json", "--in", str(indexed["photos"] / "cats")).stdout)
    assert mirrored[0]["taken"] == "2024-05-01T12:00:00"


def test_unknown_word_suggests_spellings(indexed):
    result = run(indexed, "query", "kittenn")
    assert result.exit_code == 5 and result.stdout == "" and "Did you mean: kitten" in result.stderr


def test_not_an_image_is_an_error(indexed, tmp_path):
    junk = tmp_path / "notes.jpg"
    junk.write_text("shopping list")
    result = run(indexed, "similar", str(junk))
    assert result.exit_code == 6 and result.stdout == "" and "not an image" in result.stderr


def test_store_built_with_another_model_is_an_error(indexed, tmp_path):
    from devsearch.store.catalog import Store

    with Store.open(Path(indexed["home"])) as store:
        manifest = json.loads(Path(store.model_manifest().path, "manifest.json").read_text())
    manifest["fingerprint"] = manifest["fingerprint"][:-4] + "beef"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    result = run(indexed, "query", "cat", "--model", str(tmp_path))
    assert result.exit_code == 7 and result.stdout == "" and "--rebuild" in result.stderr
