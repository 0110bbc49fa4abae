"""A store moves to a new model without --rebuild: a new projection of the same backbone from the top
classes it keeps (no decoding), and a store of an older version (no kept classes) by embedding again."""
from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.model.calibration import load_calibration
from devsearch.core.photo import decode_photo
from devsearch.core.settings import Settings
from devsearch.indexer.service import index_paths
from devsearch.model.bundle import save_bundle
from devsearch.model.resolver import resolve_model
from devsearch.store.binding import MODEL_FILE
from devsearch.store.catalog import CATALOG_FILE, Store
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

PHOTOS = ("chelsea.jpg", "owl.jpg", "coffee.jpg")
OLD_DEFAULT = {  # model.json of a store indexed by the previous version (manifest format 1)
    "backbone": "efficientnet-lite0", "dims": 50, "fingerprint": "efficientnet-lite0+conse+glove-6b-50d:9734dad4a7222ad9",
    "format": 1, "head": "conse", "labels": "imagenet-1k", "labels_without_vector": 23,
    "path": "/gone/models/efficientnet-lite0-conse-glove-6b-50d", "top_t": 10, "words": "glove-6b-50d",
    "words_name": "glove-6b-50d",
}


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(FIXTURES / name, folder / name)
    return folder


def bird_query(home: Path) -> list[dict]:
    result = CliRunner().invoke(app, ["query", "bird", "--all", "--json", "--home", str(home)])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_store_of_an_older_version_answers_by_cosine_and_is_upgraded_by_index(tmp_path, photos, model_cache):
    settings = Settings(home=tmp_path / "home", cache=model_cache, model=None)
    index_paths([photos], settings)
    with sqlite3.connect(settings.home / CATALOG_FILE) as db:  # as the previous version left it
        db.execute("UPDATE photos SET top_classes = NULL, model = ?", (OLD_DEFAULT["fingerprint"],))
    (settings.home / MODEL_FILE).write_text(json.dumps(OLD_DEFAULT))
    for path in settings.home.glob("postings*"):  # the previous version kept no class postings
        path.unlink()

    before = bird_query(settings.home)
    by_cosine = load_calibration().fit("words_no_class")
    assert len(before) == 3 and all(row["mass"] == 0 and row["score"] == pytest.approx(
        float(by_cosine.probability(row["cosine"])), abs=1e-5) for row in before)

    summary = index_paths([photos], settings)
    assert (summary.updated, summary.new, summary.unchanged) == (3, 0, 0)
    with Store.open(settings.home) as store:
        assert store.model_manifest().fingerprint == resolve_model(settings).manifest.fingerprint
    after = bird_query(settings.home)
    assert Path(after[0]["path"]).name == "owl.jpg" and after[0]["mass"] > 0.5


def test_a_new_projection_of_the_same_backbone_is_applied_from_the_kept_classes(tmp_path, photos, model_cache):
    settings = Settings(home=tmp_path / "home", cache=model_cache, model=None, people=False)  # vectors as embedded
    index_paths([photos], settings)
    other = replace(settings, model=tmp_path / "t10")
    save_bundle(tmp_path / "t10", settings=other, top_t=10)

    summary = index_paths([photos], other)
    assert (summary.reprojected, summary.updated, summary.new, summary.unchanged) == (3, 0, 0, 3)
    expected = resolve_model(other).embed(np.stack([decode_photo(photos / name).pixels for name in PHOTOS]))
    with Store.open(settings.home) as store:
        assert store.model_manifest().fingerprint == resolve_model(other).manifest.fingerprint
        stored = np.stack([store.vector_of(store.find_by_path(photos / name).id) for name in PHOTOS])
    np.testing.assert_allclose(stored, expected, atol=1e-5)
