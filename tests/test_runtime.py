"""The light inference runtime: the converted network answers as the Keras one, commands that only
infer never import TensorFlow or Keras, and `labels` of an indexed photo needs no network at all."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devsearch.core.errors import UsageError
from devsearch.core.photo import decode_photo
from devsearch.core.settings import Settings
from devsearch.model.backend import infers_on_light_runtime
from devsearch.model.converted import cached_network
from devsearch.model.resolver import resolve_model
from devsearch.store.kept_classes import keep_top
from tests.tiny_library import axis, build_store, photo_file

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "samples").glob("*.jpg"))
HEAVY = ("tensorflow", "keras", "jax", "torch")


def imported(stderr: str) -> set[str]:
    """Top-level modules a `python -X importtime` run loaded."""
    return {line.split("|")[-1].strip().split(".")[0] for line in stderr.splitlines() if line.startswith("import time:")}


def devsearch(*args: str, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "devsearch", *args], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "DEVSEARCH_CACHE": str(cache)})


@pytest.mark.slow
def test_the_converted_network_answers_as_keras_on_the_samples(model_cache):
    settings = Settings(home=model_cache / "unused-home", cache=model_cache, backend="auto")
    first = resolve_model(settings)  # on an empty cache: the bundle made now is the one converted
    before = first.manifest.fingerprint
    converted = first.network()
    keras_bundle = resolve_model(settings).keras_bundle()
    photos = np.stack([decode_photo(path).pixels for path in SAMPLES])
    vectors, probabilities = converted.embed_and_classify(photos)
    keras_vectors, keras_probabilities = keras_bundle.embed_and_classify(photos)
    assert converted.runtime()["backend"] == "litert"
    for ours, theirs in zip(probabilities, keras_probabilities):
        assert list(np.argsort(-ours)[:5]) == list(np.argsort(-theirs)[:5])
    cosines = np.sum(vectors * keras_vectors, axis=1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(keras_vectors, axis=1)
    assert np.all(1 - cosines <= 1e-4)
    assert resolve_model(settings).manifest.fingerprint == before == keras_bundle.fingerprint
    assert cached_network(settings, before) is not None


@pytest.mark.slow
def test_labels_index_and_similar_of_new_photos_import_neither_tensorflow_nor_keras(model_cache, tmp_path):
    resolve_model(Settings(home=tmp_path / "unused", cache=model_cache)).network()  # converted once, here
    home = tmp_path / "home"
    first = devsearch("index", str(REPO / "samples"), "--home", str(home), cache=model_cache)  # detectors converted
    assert first.returncode == 0, first.stderr[-2000:]
    new_photo = tmp_path / "more" / "new.jpg"
    new_photo.parent.mkdir()
    new_photo.write_bytes(SAMPLES[0].read_bytes() + b"\0")  # the same picture, another file
    labels = devsearch("labels", str(new_photo), "--json", "--home", str(tmp_path / "none"), cache=model_cache)
    similar = devsearch("similar", str(new_photo), "--json", "--home", str(home), cache=model_cache)
    index = devsearch("index", str(new_photo.parent), "--home", str(home), cache=model_cache)
    for run in (labels, similar, index):
        assert run.returncode == 0, run.stderr[-2000:]
        assert not imported(run.stderr) & set(HEAVY)
    assert json.loads(labels.stdout)["imagenet"]


def test_labels_of_an_indexed_photo_answer_from_the_store_without_a_network(tmp_path):
    photo = photo_file(tmp_path / "photos", "tabby.jpg")  # not even an image: only its content hash matters
    probabilities = np.zeros((1, 1000), dtype=np.float32)
    probabilities[0, [281, 285, 282]] = [0.6, 0.3, 0.1]  # tabby, Egyptian cat, tiger cat
    settings = build_store(tmp_path / "home", tmp_path / "model", {photo: (axis(0, 0, 1, 0), None)},
                           classes={photo: keep_top(probabilities)[0]})
    run = devsearch("labels", str(photo), "--json", "-n", "2", "--home", str(settings.home), cache=tmp_path / "cache")
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert [row["label"] for row in answer["imagenet"]] == ["tabby", "Egyptian cat"]
    assert answer["words"][0]["word"] == "cat"
    assert not imported(run.stderr) & {*HEAVY, "ai_edge_litert"}


def test_without_the_runtime_auto_falls_back_to_keras_and_litert_is_an_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # as where the wheel is missing
    assert infers_on_light_runtime("auto") is False
    assert "the inference runtime is not installed" in capsys.readouterr().err
    with pytest.raises(UsageError, match="pip install ai-edge-litert"):
        infers_on_light_runtime("litert")


def test_a_model_file_without_a_signature_runs_by_its_tensor_names():
    from devsearch.model.people_detectors import FACE_MODEL, FACE_PACKAGE, asset_path
    from devsearch.model.runtime import RuntimeModel

    face = RuntimeModel(asset_path(FACE_PACKAGE, FACE_MODEL), threads=1)  # MediaPipe's BlazeFace, as shipped
    out = face.run({face.inputs[0]: np.zeros((1, 192, 192, 3), dtype=np.float32)})
    assert sorted(value.shape for value in out.values()) == [(1, 2304, 1), (1, 2304, 16)]
