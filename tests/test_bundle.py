"""A model bundle is a folder that reloads to the same embedding space, and its fingerprint names that space."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from devsearch.core.errors import UsageError
from devsearch.core.settings import Settings
from devsearch.model.bundle import save_bundle
from devsearch.model.conse import project
from devsearch.model.heads import build_devise_head
from devsearch.model.manifest import MANIFEST_FILE, Manifest, read_manifest
from devsearch.model.resolver import resolve_model
from devsearch.core.photo import decode_photo
from devsearch.store.kept_classes import keep_top
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    return np.stack([decode_photo(FIXTURES / name).pixels for name in ("coffee.jpg", "chelsea.jpg")])


@pytest.fixture(scope="module")
def default_bundle(model_cache):
    return resolve_model(Settings(cache=model_cache, model=None)).keras_bundle()


@pytest.fixture(scope="module")
def saved_default(tmp_path_factory, model_cache) -> Manifest:
    """The default bundle saved once, read by every test that needs a saved one (each save takes
    most of a minute here)."""
    return save_bundle(tmp_path_factory.mktemp("saved") / "default", settings=Settings(cache=model_cache))


def test_default_bundle_is_efficientnet_conse_glove(default_bundle):
    manifest = default_bundle.manifest
    assert (manifest.backbone, manifest.head, manifest.words) == ("efficientnet-lite0", "conse", "glove-6b-50d")
    assert default_bundle.fingerprint.startswith("efficientnet-lite0:")
    assert "/conse+glove-6b-50d:" in default_bundle.fingerprint


def test_embeddings_are_unit_vectors_in_the_word_space(default_bundle, photos):
    embeddings = default_bundle.embed(photos)
    assert embeddings.shape == (2, default_bundle.dims) == (2, 50)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_the_conse_vector_is_the_same_from_the_kept_top_classes(default_bundle, photos):
    embeddings, probabilities = default_bundle.embed_and_classify(photos)
    kept = keep_top(probabilities)
    from_kept = project(np.stack([k.ids for k in kept]), np.stack([k.probabilities for k in kept]),
                        default_bundle.label_vectors, default_bundle.manifest.top_t)
    np.testing.assert_allclose(from_kept, embeddings, atol=1e-5)


def test_a_saved_bundle_reloads_with_the_same_fingerprint_and_outputs(saved_default, model_cache, default_bundle,
                                                                      photos):
    reloaded = resolve_model(Settings(cache=model_cache, model=saved_default.path)).network()
    assert saved_default.fingerprint == reloaded.fingerprint == default_bundle.fingerprint
    np.testing.assert_allclose(reloaded.embed(photos), default_bundle.embed(photos), atol=1e-5)


def test_a_devise_bundle_round_trips_and_its_fingerprint_follows_the_weights(tmp_path, model_cache, photos):
    head = build_devise_head((7, 7, 1280), 50)
    settings = Settings(cache=model_cache, model=tmp_path / "devise")
    first = save_bundle(tmp_path / "devise", settings=settings, head="devise", head_model=head)
    before = resolve_model(settings).keras_bundle()
    assert before.fingerprint == first.fingerprint
    outputs = before.embed(photos)

    head.get_layer("word_projection").kernel.assign(head.get_layer("word_projection").kernel * 2 + 0.01)
    second = save_bundle(tmp_path / "devise2", settings=settings, head="devise", head_model=head)
    assert second.fingerprint != first.fingerprint
    np.testing.assert_allclose(resolve_model(settings).embed(photos), outputs, atol=1e-5)


def test_a_bundle_whose_weights_changed_behind_its_manifest_is_refused(tmp_path, model_cache, saved_default):
    folder = tmp_path / "tampered"
    shutil.copytree(saved_default.path, folder)
    settings = Settings(cache=model_cache, model=folder)
    vectors = np.load(folder / "label_vectors.npy")
    np.save(folder / "label_vectors.npy", vectors[::-1].copy())
    with pytest.raises(UsageError, match="does not match its manifest"):
        resolve_model(settings).network()


def test_a_folder_without_a_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(UsageError, match="not a model bundle"):
        read_manifest(tmp_path)


def test_the_manifest_is_plain_json_without_the_load_path(saved_default):
    stored = json.loads((saved_default.path / MANIFEST_FILE).read_text())
    assert "path" not in stored and stored["dims"] == 50 and stored["top_t"] == 50 and stored["format"] == 2
