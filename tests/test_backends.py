"""Which Keras backend runs the network, and that every backend gives the same answers.

The JAX tests run `devsearch` in real processes (Keras picks its backend once per process, and this
one already runs TensorFlow); they need the `[jax]` extra, which CI installs.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.errors import UsageError
from devsearch.core.photo import decode_photo
from devsearch.core.settings import Settings
from devsearch.model.backend import resolve_backend, resolve_precision

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "samples").glob("*.jpg"))
needs_jax = pytest.mark.skipif(find_spec("jax") is None, reason="needs the [jax] extra (CI installs it)")


# `devsearch ARGS` that says on stderr, as it exits, which of these packages it has imported
_REPORTS_IMPORTS = ("import atexit, sys; atexit.register(lambda: print(*sorted({'jax', 'tensorflow'} & set(sys.modules)), "
                    "file=sys.stderr)); sys.argv[0] = 'devsearch'; from cli.app import main; main()")


def devsearch(*args: str, env: dict[str, str] | None = None, report_imports: bool = False) -> subprocess.CompletedProcess:
    command = ["-c", _REPORTS_IMPORTS] if report_imports else ["-m", "devsearch"]
    return subprocess.run([sys.executable, *command, *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def stored_vectors(home: Path) -> dict[str, np.ndarray]:
    with sqlite3.connect(home / "catalog.sqlite") as db:
        rows = db.execute("SELECT path, embedding FROM photos WHERE status = 'indexed'").fetchall()
    return {Path(os.fsdecode(path)).name: np.frombuffer(blob, np.float32) for path, blob in rows}


def test_an_unknown_backend_is_one_line_naming_the_choices() -> None:
    result = CliRunner().invoke(app, ["labels", str(SAMPLES[0]), "--backend", "theano"])
    assert result.exit_code == 2
    assert result.stderr == "devsearch: error: unknown backend 'theano': choose one of auto, litert, tensorflow, jax, torch\n"


def test_an_unknown_precision_from_the_environment_is_a_usage_error(monkeypatch) -> None:
    monkeypatch.setenv("DEVSEARCH_PRECISION", "float8")
    with pytest.raises(UsageError, match="unknown precision 'float8'"):
        Settings()


@pytest.mark.skipif(find_spec("torch") is not None, reason="torch is installed here")
def test_a_backend_that_is_not_installed_is_one_line_naming_what_to_install() -> None:
    result = CliRunner().invoke(app, ["labels", str(SAMPLES[0]), "--backend", "torch"])
    assert result.exit_code == 2
    assert result.stderr == "devsearch: error: the torch backend is not installed: pip install torch\n"


@pytest.mark.skipif(any(find_spec(p) for p in ("jax_plugins", "jax_cuda12_plugin")), reason="JAX may see a GPU here")
def test_auto_is_tensorflow_where_jax_cannot_see_a_gpu() -> None:
    assert resolve_backend("auto") == "tensorflow"


def test_auto_precision_is_bfloat16_only_for_jax_on_a_gpu() -> None:
    assert resolve_precision("auto", "jax", "gpu: NVIDIA H200") == "bfloat16"
    assert resolve_precision("auto", "jax", "cpu") == "float32"
    assert resolve_precision("auto", "tensorflow", "gpu: /device:GPU:0") == "float32"
    assert resolve_precision("float32", "jax", "gpu: NVIDIA H200") == "float32"


@pytest.mark.slow
def test_bfloat16_embeddings_stay_within_cosine_0999_of_float32(model_cache: Path) -> None:
    """The condition for bfloat16 being the GPU default, checked on whatever backend runs here."""
    from devsearch.model.resolver import resolve_model

    pixels = np.stack([decode_photo(path).pixels for path in SAMPLES])
    full = resolve_model(Settings(cache=model_cache, precision="float32")).keras_bundle().embed(pixels)
    half_bundle = resolve_model(Settings(cache=model_cache, precision="bfloat16")).keras_bundle()
    half = half_bundle.embed(pixels)
    assert half_bundle.runtime()["precision"] == "bfloat16"
    cosines = np.sum(full * half, axis=1) / np.linalg.norm(full, axis=1) / np.linalg.norm(half, axis=1)
    assert cosines.min() >= 0.999, cosines


@needs_jax
@pytest.mark.slow
def test_labels_under_jax_name_espresso_and_never_import_tensorflow(model_cache: Path) -> None:
    result = devsearch("labels", str(REPO / "samples" / "coffee.jpg"), "--json", env={"DEVSEARCH_BACKEND": "jax"},
                       report_imports=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["imagenet"][0]["label"] == "espresso"
    said = [line for line in result.stderr.splitlines() if line != "devsearch: loading the network (Keras) ..."]
    assert said == ["jax"]  # no TensorFlow, and nothing else on stderr but what the wait is


@needs_jax
@pytest.mark.slow
def test_index_under_jax_matches_tensorflow_and_compiles_one_batch_shape(tmp_path: Path, model_cache: Path) -> None:
    """Five photos in batches of 4: the short last batch is padded, so JAX compiles the network once."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in SAMPLES[:5]:
        (photos / path.name).write_bytes(path.read_bytes())
    on_tf = devsearch("index", str(photos), "--home", str(tmp_path / "tf"), "--batch-size", "4", "--backend", "tensorflow")
    on_jax = devsearch("index", str(photos), "--home", str(tmp_path / "jax"), "--batch-size", "4", "--backend", "jax",
                       env={"JAX_LOG_COMPILES": "1"})
    assert on_tf.returncode == 0 and on_jax.returncode == 0, on_jax.stderr[-2000:]
    assert "network: jax on cpu, float32" in on_jax.stdout
    assert set(re.findall(r"uint8\[(\d+),224,224,3\]", on_jax.stderr)) == {"4"}
    statuses = [json.loads(devsearch("status", "--home", str(tmp_path / home), "--json").stdout) for home in ("tf", "jax")]
    assert statuses[0]["model"] == statuses[1]["model"]
    assert [s["last_run"]["network"]["backend"] for s in statuses] == ["tensorflow", "jax"]
    tf_vectors, jax_vectors = stored_vectors(tmp_path / "tf"), stored_vectors(tmp_path / "jax")
    assert sorted(tf_vectors) == sorted(jax_vectors) and len(tf_vectors) == 5
    for name, vector in tf_vectors.items():
        assert float(vector @ jax_vectors[name]) >= 1 - 1e-4, name
