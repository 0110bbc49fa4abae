"""Options several commands share, defined once so their flag and help stay the same everywhere."""
from __future__ import annotations

import typer

from core.settings import BACKENDS, PRECISIONS

HOME = typer.Option(None, "--home", metavar="DIR",
                    help="Store directory (default: DEVSEARCH_HOME or ~/.local/share/devsearch).")
BACKEND = typer.Option(None, "--backend", metavar="|".join(BACKENDS),
                       help="Keras backend for the network (default: DEVSEARCH_BACKEND or auto: "
                            "JAX when it sees a GPU, else TensorFlow).")
PRECISION = typer.Option(None, "--precision", metavar="|".join(PRECISIONS),
                         help="Network arithmetic (default: DEVSEARCH_PRECISION or auto: bfloat16 "
                              "convolutions on a GPU under JAX, else float32).")
