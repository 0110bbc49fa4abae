"""Options several commands share, defined once so their flag, help and checks stay the same everywhere.

Paths are checked while the command line is parsed, by the function of the package that owns them
(so the message is the package's own): a wrong path fails in a fraction of a second, before a
command imports TensorFlow (3-4 s). The model, dataset and label-list checks import their package
only when there is a value to check, so a plain `devsearch query` loads nothing more for them.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from devsearch.core.settings import BACKENDS, PRECISIONS
from devsearch.wordspace.sources import BUILTIN, resolve_source


def _each(check: Callable[[Any], object]) -> Callable[[Any], Any]:
    """A typer callback running check on the value, or on each value of a repeated one; None passes."""
    def callback(value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                check(item)
        return value
    return callback


def _model_bundle(folder: Path) -> None:
    from devsearch.model.manifest import read_manifest

    read_manifest(folder)


def _dataset(folder: Path) -> None:
    from devsearch.training.datasets import check_dataset_folder

    check_dataset_folder(folder)


def _label_list(path: Path) -> None:
    from devsearch.training.datasets import read_label_list

    read_label_list(path)


HOME = typer.Option(None, "--home", metavar="DIR",
                    help="Store directory (default: DEVSEARCH_HOME or ~/.local/share/devsearch).")

WORDS = typer.Option(BUILTIN, "--words", metavar="SOURCE", callback=_each(resolve_source),
                     help=f"Word vectors: {BUILTIN!r} (builtin) or a word2vec/GloVe/fastText file.")


def model_option(help: str, required: bool = False) -> Any:
    """--model DIR, checked to be a model bundle."""
    return typer.Option(... if required else None, "--model", metavar="DIR", help=help, callback=_each(_model_bundle))


def datasets_argument(help: str) -> Any:
    """DATASET (or DATASET... for a list parameter), each checked to be a folder."""
    return typer.Argument(..., help=help, callback=_each(_dataset))


def holdout_labels_option(help: str) -> Any:
    """--holdout-labels FILE, checked to be a readable label list."""
    return typer.Option(None, "--holdout-labels", metavar="FILE", help=help, callback=_each(_label_list))
BACKEND = typer.Option(None, "--backend", metavar="|".join(BACKENDS),
                       help="What runs the network (default: DEVSEARCH_BACKEND or auto: Keras on JAX when "
                            "it sees a GPU, else the light runtime litert; training uses Keras on TensorFlow).")
PRECISION = typer.Option(None, "--precision", metavar="|".join(PRECISIONS),
                         help="Network arithmetic (default: DEVSEARCH_PRECISION or auto: bfloat16 "
                              "convolutions on a GPU under JAX, else float32).")
