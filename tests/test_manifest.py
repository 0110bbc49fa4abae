"""A manifest is a typed value with a versioned JSON form; bundles and stores written before it still load."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from devsearch.core.errors import StoreError, UsageError
from devsearch.model.manifest import MANIFEST_FILE, Manifest, fingerprint, read_manifest, write_manifest
from devsearch.store.binding import MODEL_FILE
from devsearch.store.catalog import Store

# manifest.json of the default ConSE bundle as the dict-based writer left it (keys sorted, no path)
CONSE_FORMAT_1 = {
    "backbone": "efficientnet-lite0", "dims": 50,
    "fingerprint": "efficientnet-lite0+conse+glove-6b-50d:9734dad4a7222ad9", "format": 1, "head": "conse",
    "labels": "imagenet-1k", "labels_without_vector": 23, "top_t": 10, "words": "glove-6b-50d",
    "words_name": "glove-6b-50d",
}
DEVISE_FORMAT_1 = {
    "backbone": "efficientnet-lite0", "dims": 50, "fingerprint": "efficientnet-lite0+devise+glove-6b-50d:00ff",
    "format": 1, "head": "devise", "head_input_shape": [7, 7, 1280], "labels": "trained", "loss": "hinge",
    "random_words": False, "words": "glove-6b-50d", "words_name": "glove-6b-50d",
}


@pytest.mark.parametrize("stored", [CONSE_FORMAT_1, DEVISE_FORMAT_1], ids=["conse", "devise"])
def test_a_bundle_written_before_the_typed_manifest_reads_and_writes_back_the_same_json(tmp_path, stored):
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(stored, indent=2, sort_keys=True))
    manifest = read_manifest(tmp_path)
    write_manifest(tmp_path / "again", manifest)
    assert json.loads((tmp_path / "again" / MANIFEST_FILE).read_text()) == stored
    assert manifest.path == tmp_path.resolve()


def test_a_devise_manifest_has_a_typed_head_shape(tmp_path):
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(DEVISE_FORMAT_1))
    manifest = read_manifest(tmp_path)
    assert (manifest.head_input_shape, manifest.random_words, manifest.top_t) == ((7, 7, 1280), False, None)


def test_a_store_bound_before_the_typed_manifest_still_opens_with_its_bundle_folder(tmp_path):
    with Store.open(tmp_path / "home", writer=True):
        pass
    (tmp_path / "home" / MODEL_FILE).write_text(json.dumps({**CONSE_FORMAT_1, "path": "/models/conse"}))
    with Store.open(tmp_path / "home", allow_empty=True) as store:
        bound = store.model_manifest()
    assert bound == Manifest.from_json(CONSE_FORMAT_1) and bound.path == Path("/models/conse")


def test_a_store_keeps_the_bundle_folder_of_its_model(tmp_path):
    manifest = Manifest.from_json(CONSE_FORMAT_1).at(tmp_path / "bundle")
    with Store.open(tmp_path / "home", writer=True) as store:
        store.bind_model(manifest)
    assert json.loads((tmp_path / "home" / MODEL_FILE).read_text()) == {**CONSE_FORMAT_1, "path": str(tmp_path / "bundle")}


def test_a_manifest_of_a_newer_format_is_refused_with_one_line(tmp_path):
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**CONSE_FORMAT_1, "format": 99}))
    with pytest.raises(UsageError, match="format 99"):
        read_manifest(tmp_path)


def test_a_manifest_without_its_fingerprint_is_refused(tmp_path):
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({k: v for k, v in CONSE_FORMAT_1.items() if k != "fingerprint"}))
    with pytest.raises(UsageError, match="missing fingerprint"):
        read_manifest(tmp_path)


def test_a_damaged_store_binding_says_to_rebuild(tmp_path):
    with Store.open(tmp_path / "home", writer=True):
        pass
    (tmp_path / "home" / MODEL_FILE).write_text(json.dumps({"format": 1, "dims": 4}))
    with Store.open(tmp_path / "home", allow_empty=True) as store, pytest.raises(StoreError, match="--rebuild"):
        store.model_manifest()


def test_a_format_2_fingerprint_names_the_backbone_and_the_projection_apart():
    manifest = Manifest(backbone="efficientnet-lite0", head="conse", words="glove-6b-50d", words_name="glove-6b-50d",
                        dims=50, labels="imagenet-1k")
    one = fingerprint(manifest, {"backbone": "b1", "head": "h1", "words": "w1"})
    other_head = fingerprint(manifest, {"backbone": "b1", "head": "h2", "words": "w1"})
    other_backbone = fingerprint(manifest, {"backbone": "b2", "head": "h1", "words": "w1"})
    assert one.startswith("efficientnet-lite0:") and "/conse+glove-6b-50d:" in one
    assert replace(manifest, fingerprint=one).backbone_fingerprint == replace(manifest, fingerprint=other_head).backbone_fingerprint
    assert one.split("/")[1] == other_backbone.split("/")[1] and one != other_backbone


def test_a_format_1_manifest_keeps_its_one_hash_fingerprint_and_projects_no_classes():
    manifest = Manifest.from_json(CONSE_FORMAT_1)
    assert fingerprint(manifest, {"backbone": "b", "head": "h", "words": "w"}).startswith("efficientnet-lite0+conse+glove-6b-50d:")
    assert manifest.backbone_fingerprint is None and not manifest.projects_classes
