"""Options several commands share, defined once so their flag and help stay the same everywhere."""
from __future__ import annotations

import typer

HOME = typer.Option(None, "--home", metavar="DIR",
                    help="Store directory (default: DEVSEARCH_HOME or ~/.local/share/devsearch).")
