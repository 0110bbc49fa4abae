"""`devsearch labels IMAGE` shows what the model sees: ImageNet classes and the nearest words."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.model.image_labels import print_description
from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cat_labels(model_cache) -> dict:
    result = CliRunner().invoke(app, ["labels", str(FIXTURES / "chelsea.jpg"), "--json", "-n", "10"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_labels_json_has_the_documented_keys(cat_labels):
    assert set(cat_labels) == {"image", "imagenet", "words"}
    assert set(cat_labels["imagenet"][0]) == {"label", "wnid", "score", "path"}
    assert set(cat_labels["words"][0]) == {"word", "score"}
    assert len(cat_labels["imagenet"]) == len(cat_labels["words"]) == 10


@pytest.mark.slow
def test_the_cat_is_a_cat_class_in_the_top_three(cat_labels):
    top3 = [row["label"] for row in cat_labels["imagenet"][:3]]
    assert any(label in {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"} for label in top3)


@pytest.mark.slow
def test_each_class_shows_its_wordnet_path_up_from_the_class(cat_labels):
    tabby = next(row for row in cat_labels["imagenet"] if row["label"] == "tabby")
    assert tabby["path"][:3] == ["tabby", "domestic cat", "cat"]


@pytest.mark.slow
def test_cat_is_among_the_ten_nearest_words_to_the_cat(cat_labels):
    assert "cat" in [row["word"] for row in cat_labels["words"]]


@pytest.mark.slow
def test_coffee_is_espresso_in_a_real_process_with_nothing_on_stderr(model_cache):
    result = subprocess.run(
        [sys.executable, "-m", "devsearch", "labels", str(FIXTURES / "coffee.jpg"), "--json", "-n", "3"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "DEVSEARCH_CACHE": str(model_cache)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["imagenet"][0]["label"] == "espresso"
    assert result.stderr == ""  # TensorFlow's start-up lines (oneDNN, cpu_feature_guard) are muted


def test_a_missing_image_is_one_line_and_exit_6(tmp_path):
    result = CliRunner().invoke(app, ["labels", str(tmp_path / "nope.jpg")])
    assert result.exit_code == 6
    assert result.stderr.strip().count("\n") == 0 and "no such file" in result.stderr
    assert result.stdout == ""


def test_a_text_file_is_not_an_image(tmp_path):
    fake = tmp_path / "fake.jpg"
    fake.write_text("not a photo")
    result = CliRunner().invoke(app, ["labels", str(fake)])
    assert result.exit_code == 6 and "not an image" in result.stderr


def test_the_tables_rank_the_classes_then_the_words(capsys):
    print_description({"image": "cup.jpg", "imagenet": [{"label": "espresso", "wnid": "n07920052", "score": 0.912,
                                                         "path": ["espresso", "beverage", "food"]}],
                       "words": [{"word": "coffee", "score": 0.81}, {"word": "tea", "score": 0.7}]})
    out = capsys.readouterr().out
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    assert rows == [["1", "espresso", "0.912", "espresso < beverage < food"], ["1", "coffee", "0.810"],
                    ["2", "tea", "0.700"]]
    assert out.index("ImageNet classes") < out.index("espresso") < out.index("Nearest words") < out.index("coffee")
