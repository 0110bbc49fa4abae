"""`devsearch labels IMAGE`: what the model sees in one photo (ImageNet classes and nearest words)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from devsearch.cli.options import BACKEND, HOME, PRECISION, model_option
from devsearch.core.settings import Settings


def labels(
    image: Path = typer.Argument(..., help="A photo file."),
    top: int = typer.Option(5, "-n", "--top", min=1, max=100, help="How many classes and words to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    home: Optional[Path] = HOME,
    model: Path = model_option("Model bundle folder (default: the built-in one)."),
    backend: str = BACKEND,
    precision: str = PRECISION,
) -> None:
    """Show the top ImageNet classes (with their WordNet paths) and the nearest words to the photo's embedding
    (a photo already indexed in the store at --home answers from what the store keeps of it)."""
    from devsearch.model.image_labels import print_description
    from devsearch.search.photo_labels import labels_of

    settings = Settings().with_options(home=home, model=model, backend=backend, precision=precision)
    description = labels_of(image, settings, top=top)
    if as_json:
        typer.echo(json.dumps(description, indent=2))
    else:
        print_description(description)


def register(app: typer.Typer) -> None:
    app.command("labels")(labels)
