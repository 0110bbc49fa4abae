"""`devsearch train` (DeViSE phase 3: fit the head) and `devsearch eval` (the paper's Table 1 measures)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from devsearch.cli.options import BACKEND, WORDS, datasets_argument, holdout_labels_option, model_option
from devsearch.core.settings import Settings

_WHERE_HELP = "Keep only labels.csv rows with COLUMN=VALUE (repeatable), e.g. kind=photo."


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _holdout(path: Optional[Path]) -> Optional[list[str]]:
    from devsearch.training.datasets import read_label_list

    return None if path is None else read_label_list(path)


def train(
    datasets: List[Path] = datasets_argument("Dataset folders: labels.csv (file,label[,...]) or one sub-folder per label."),
    out: Path = typer.Option(..., "--out", help="Folder to write the model bundle to."),
    backbone: str = typer.Option("efficientnet-lite0", "--backbone", help="efficientnet-lite0 or resnet50."),
    words: str = WORDS,
    loss: str = typer.Option("cosine", "--loss", help="cosine (1 - cos) or hinge (the paper's rank loss, margin 0.1)."),
    epochs: int = typer.Option(30, "--epochs", min=1, help="Passes over the training features."),
    holdout_labels: Optional[Path] = holdout_labels_option("File of labels (one a line) kept out of training."),
    holdout_fraction: Optional[float] = typer.Option(None, "--holdout-fraction", help="Keep this random fraction of the labels out of training."),
    seed: int = typer.Option(0, "--seed", help="Seed for the held-out pick, initialisation and shuffling."),
    random_words: bool = typer.Option(False, "--random-words", help="Control: random label vectors instead of word vectors."),
    augment: List[str] = typer.Option([], "--augment", help="Extra feature views (repeatable): flip, crop."),
    where: List[str] = typer.Option([], "--where", help=_WHERE_HELP),
    backend: Optional[str] = BACKEND,
) -> None:
    """Train a DeViSE head on labelled images and write a model bundle for index/query/similar/labels."""
    from devsearch.model.backend import import_keras

    settings = Settings().with_options(backend=backend)
    import_keras(settings.backend)
    from devsearch.training.fit import TrainSpec
    from devsearch.training.fit import train as train_model

    spec = TrainSpec(datasets=[str(d.resolve()) for d in datasets], where=list(where), backbone=backbone, words=words,
                     loss=loss, epochs=epochs, holdout_labels=_holdout(holdout_labels) or [], seed=seed,
                     random_words=random_words, augment=list(augment))
    summary = train_model(spec, out, settings, say=_say, holdout_fraction=holdout_fraction)
    typer.echo(f"trained on {summary['images']} images, {len(summary['labels'])} labels "
               f"({len(summary['spec']['holdout_labels'])} held out, {len(summary['skipped_labels'])} without a word vector); "
               f"final loss {summary['epoch_losses'][-1]:.4f}")
    typer.echo(f"model: {summary['path']} ({summary['fingerprint']})")


def evaluate(
    dataset: Path = datasets_argument("Labelled images to evaluate on (labels.csv or sub-folders)."),
    model: Path = model_option("Model bundle folder (from `devsearch train`; default: the built-in one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the tables."),
    holdout_labels: Optional[Path] = holdout_labels_option("Zero-shot labels (default: those the model held out)."),
    baselines: bool = typer.Option(False, "--baselines", help="Also: softmax, random-embedding DeViSE and ConSE."),
    where: List[str] = typer.Option([], "--where", help=_WHERE_HELP),
    backend: Optional[str] = BACKEND,
) -> None:
    """Flat hit@k, hierarchical precision@k, zero-shot, retrieval by label, head word and category word."""
    from devsearch.model.backend import import_keras

    settings = Settings().with_options(backend=backend)
    import_keras(settings.backend)
    from devsearch.training.evaluation import evaluate as evaluate_model
    from devsearch.training.evaluation import markdown_table

    result = evaluate_model(dataset, model, settings, where=where, holdout_labels=_holdout(holdout_labels),
                            baselines=baselines, say=_say)
    typer.echo(json.dumps(result, indent=1) if as_json else markdown_table(result))


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("eval")(evaluate)
