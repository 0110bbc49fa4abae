"""`devsearch train` and `devsearch eval` from the command line: errors, the table and the JSON."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from tests.synthetic import make_dataset
from tests.tiny_library import make_bundle


def _invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_eval_on_a_missing_dataset_says_what_to_give(tmp_path):
    result = _invoke("eval", tmp_path / "nowhere", "--model", str(make_bundle(tmp_path / "model").path))
    assert result.exit_code == 2
    assert "not found: give a folder with labels.csv" in result.output


def test_eval_on_an_empty_dataset_is_a_usage_error(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label\n")
    result = _invoke("eval", tmp_path, "--model", str(make_bundle(tmp_path / "model").path))
    assert result.exit_code == 2
    assert "has no images" in result.output


def test_eval_of_a_folder_that_is_not_a_model_is_a_usage_error(tmp_path):
    data = make_dataset(tmp_path / "data", per_label=1, seed=0)
    result = _invoke("eval", data, "--model", tmp_path)
    assert result.exit_code == 2
    assert "is not a model bundle" in result.output


def test_training_on_labels_without_word_vectors_is_a_usage_error(tmp_path, model_cache):
    data = make_dataset(tmp_path / "data", per_label=1, seed=0, labels=("zzqxblorp", "qqvxwz"))
    result = _invoke("train", data, "--out", tmp_path / "model")
    assert result.exit_code == 2
    assert "none of the 2 labels has a word vector" in result.output


def undecodable(folder):
    """A dataset of one label whose only image is not an image."""
    (folder / "cat").mkdir(parents=True)
    (folder / "cat" / "cat.jpg").write_bytes(b"not a photo")
    return folder


@pytest.mark.slow
def test_training_on_images_none_of_which_decodes_is_a_usage_error(tmp_path, model_cache):
    result = _invoke("train", undecodable(tmp_path / "data"), "--out", tmp_path / "model")
    assert result.exit_code == 2 and "none of the 1 images could be decoded" in result.output


@pytest.mark.slow
def test_evaluating_images_none_of_which_decodes_is_a_usage_error(tmp_path, model_cache):
    result = _invoke("eval", undecodable(tmp_path / "data"))
    assert result.exit_code == 2 and "none could be decoded" in result.output


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory, model_cache):
    """A model trained through the CLI with "snow" held out, and fresh images to evaluate on."""
    root = tmp_path_factory.mktemp("cli")
    (root / "holdout.txt").write_text("# zero-shot\nsnow\n")
    train_data = make_dataset(root / "train", per_label=4, seed=3)
    result = _invoke("train", train_data, "--out", root / "model", "--epochs", "10", "--loss", "hinge",
                     "--holdout-labels", root / "holdout.txt")
    assert result.exit_code == 0, result.output
    return root, make_dataset(root / "fresh", per_label=2, seed=4)


@pytest.mark.slow
def test_train_reports_what_it_trained_on(cli_model):
    root, _ = cli_model
    summary = json.loads((root / "model" / "training.json").read_text())
    assert summary["spec"]["loss"] == "hinge"
    assert summary["spec"]["holdout_labels"] == ["snow"]
    assert summary["images"] == 5 * 4


@pytest.mark.slow
def test_eval_json_has_every_model_and_measure(cli_model):
    root, fresh = cli_model
    result = _invoke("eval", fresh, "--model", root / "model", "--baselines", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["models"]) == {"devise", "softmax", "random_devise", "conse"}
    assert report["zeroshot_labels"] == ["snow"]
    for measures in report["models"].values():
        assert {"hit@1", "hit@20", "hp@2", "hp@20", "zeroshot_hit@5", "word_p@1", "word_p@5", "word_ap"} <= set(measures)
    assert report["models"]["softmax"]["zeroshot_hit@1"] == 0.0  # it cannot name a label it never saw


@pytest.mark.slow
def test_eval_prints_the_table_and_skips_training_images(cli_model):
    root, _ = cli_model
    result = _invoke("eval", root / "train", "--model", root / "model", "--where", "kind=photo")
    assert result.exit_code == 0, result.output
    assert "| model | hit@1 | hit@2 | hit@5 | hit@10 | hit@20 | hp@2 | hp@5 | hp@10 | hp@20 |" in result.stdout
    assert "| DeViSE |" in result.stdout
    assert result.stdout.startswith("2 images, 6 labels")  # only snow's photos were never trained on
