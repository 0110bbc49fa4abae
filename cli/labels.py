"""`devsearch labels IMAGE`: what the model sees in one photo (ImageNet classes and nearest words)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.options import BACKEND, PRECISION
from core.settings import Settings

WORD_VOCAB_LIMIT = 100_000  # nearest words among the most frequent ones: rare tokens are mostly noise


def labels(
    image: Path = typer.Argument(..., help="A photo file."),
    top: int = typer.Option(5, "-n", "--top", min=1, max=100, help="How many classes and words to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    model: Path = typer.Option(None, "--model", help="Model bundle folder (default: the built-in one)."),
    backend: str = BACKEND,
    precision: str = PRECISION,
) -> None:
    """Show the top ImageNet classes and the nearest words to the photo's embedding."""
    from model.image_labels import describe_image

    settings = Settings().with_options(model=model, backend=backend, precision=precision)
    description = describe_image(image, settings, top=top, vocab_limit=WORD_VOCAB_LIMIT)
    if as_json:
        typer.echo(json.dumps(description, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for title, rows, key in (("ImageNet classes", description["imagenet"], "label"),
                             ("Nearest words (DeViSE guesses)", description["words"], "word")):
        table = Table(title=title, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column(key)
        table.add_column("score", justify="right")
        for rank, row in enumerate(rows, 1):
            table.add_row(str(rank), row[key], f"{row['score']:.3f}")
        console.print(table)


def register(app: typer.Typer) -> None:
    app.command("labels")(labels)
