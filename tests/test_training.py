"""Training the DeViSE head on a small generated image set, and reading datasets."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from devsearch.core.errors import UsageError
from devsearch.core.settings import Settings
from devsearch.training.datasets import pick_holdout, read_dataset, read_datasets
from devsearch.training.fit import TrainSpec, random_label_vectors, train
from tests.synthetic import PAINTERS, make_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory, model_cache):
    """One small model: 6 looks x 6 images, "snow" held out, one label no word space knows."""
    root = tmp_path_factory.mktemp("training")
    data = make_dataset(root / "train", per_label=6, seed=1, labels=(*PAINTERS, "zzqxblorp"))
    spec = TrainSpec(datasets=[str(data)], epochs=20, holdout_labels=["snow"], seed=0)
    summary = train(spec, root / "model", Settings(cache=model_cache))
    return root, summary


@pytest.mark.slow
def test_training_loss_falls(trained):
    losses = trained[1]["epoch_losses"]
    assert len(losses) == 20
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.slow
def test_labels_without_a_word_vector_are_reported_and_skipped(trained):
    summary = trained[1]
    assert summary["skipped_labels"] == ["zzqxblorp"]
    assert "zzqxblorp" not in summary["labels"]


@pytest.mark.slow
def test_held_out_labels_are_not_trained_on(trained):
    assert sorted(trained[1]["labels"]) == sorted(set(PAINTERS) - {"snow"})


@pytest.mark.slow
def test_trained_head_names_new_images_of_its_labels_far_above_chance(trained, model_cache):
    from devsearch.training.evaluation import evaluate

    root, summary = trained
    seen = tuple(summary["labels"])
    fresh = make_dataset(root / "fresh", per_label=3, seed=2, labels=seen)
    result = evaluate(fresh, root / "model", Settings(cache=model_cache))
    chance = 1 / len(seen)
    assert result["excluded_training_images"] == 0
    assert result["models"]["devise"]["hit@1"] >= 3 * chance, result["models"]["devise"]


@pytest.mark.slow
def test_trained_model_is_a_bundle_that_embeds_photos(trained, model_cache):
    from devsearch.model.resolver import resolve_model

    root, _ = trained
    bundle = resolve_model(Settings(cache=model_cache, model=root / "model")).network()
    pixels = np.asarray(Image.open(next((root / "train" / "images").iterdir())).convert("RGB").resize((224, 224)))
    vectors = bundle.embed(pixels[None])
    assert bundle.manifest.head == "devise"
    assert vectors.shape == (1, 50)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
def test_random_words_model_lives_in_its_own_label_space(trained, model_cache):
    from devsearch.model.resolver import resolve_model

    root, _ = trained
    spec = TrainSpec(datasets=[str(root / "train")], epochs=2, random_words=True)
    train(spec, root / "random", Settings(cache=model_cache))
    words = resolve_model(Settings(cache=model_cache, model=root / "random")).words
    assert np.allclose(words.vector("sun"), random_label_vectors(["sun"], 50)[0], atol=1e-5)


def test_random_label_vectors_are_unit_and_depend_only_on_the_label():
    both = random_label_vectors(["cat", "dog"], 50)
    assert np.allclose(np.linalg.norm(both, axis=1), 1.0)
    assert np.allclose(random_label_vectors(["dog"], 50)[0], both[1])


def test_a_dataset_can_be_one_sub_folder_per_label(tmp_path):
    for label in ("red_fox", "owl"):
        (tmp_path / label).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / label / "a.png")
    (tmp_path / "owl" / "notes.txt").write_text("not an image")
    assert sorted(i.label for i in read_dataset(tmp_path).images) == ["owl", "red fox"]


def test_where_keeps_matching_rows_and_applies_to_datasets_with_that_column(tmp_path):
    tagged = make_dataset(tmp_path / "tagged", per_label=2, seed=0)
    plain = tmp_path / "plain" / "owl"
    plain.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(plain / "a.png")
    dataset = read_datasets([tagged, tmp_path / "plain"], ["kind=photo"])
    assert {i.fields.get("kind") for i in dataset.images} == {"photo", None}
    assert len(dataset.images) == len(PAINTERS) + 1


def test_missing_image_files_are_reported_and_left_out(tmp_path):
    make_dataset(tmp_path, per_label=1, seed=0)
    with (tmp_path / "labels.csv").open("a") as handle:
        handle.write("images/gone.jpg,owl,photo\n")
    dataset = read_dataset(tmp_path)
    assert "owl" not in dataset.labels
    assert dataset.problems == ["images/gone.jpg: no such file"]


def test_a_labels_csv_saved_with_a_byte_order_mark_reads_as_without(tmp_path):
    make_dataset(tmp_path, per_label=1, seed=0)
    plain = read_dataset(tmp_path)
    (tmp_path / "labels.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "labels.csv").read_bytes())
    assert read_dataset(tmp_path).labels == plain.labels


def test_a_labels_csv_that_is_not_utf8_is_a_usage_error(tmp_path):
    make_dataset(tmp_path, per_label=1, seed=0)
    (tmp_path / "labels.csv").write_bytes((tmp_path / "labels.csv").read_bytes() + "caf\xe9,owl\n".encode("latin-1"))
    with pytest.raises(UsageError, match="labels.csv is not UTF-8 text"):
        read_dataset(tmp_path)


def test_a_filter_on_a_column_no_dataset_has_is_a_usage_error(tmp_path):
    make_dataset(tmp_path, per_label=1, seed=0)
    with pytest.raises(UsageError, match="colour"):
        read_datasets([tmp_path], ["colour=red"])


def test_holdout_fraction_is_seeded_and_never_everything():
    labels = [f"label{i}" for i in range(10)]
    assert pick_holdout(labels, 0.3, seed=4) == pick_holdout(labels, 0.3, seed=4)
    assert len(pick_holdout(labels, 0.3, seed=4)) == 3
    assert len(pick_holdout(["a", "b"], 0.99, seed=0)) == 1
