"""`devsearch labels IMAGE`: what the model sees in one photo (ImageNet classes and nearest words)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from core.settings import Settings

WORD_VOCAB_LIMIT = 100_000  # nearest words among the most frequent ones: rare tokens are mostly noise


def labels(
    image: Path = typer.Argument(..., help="A photo file."),
    top: int = typer.Option(5, "-n", "--top", min=1, max=100, help="How many classes and words to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    model: Path = typer.Option(None, "--model", help="Model bundle folder (default: the built-in one)."),
) -> None:
    """Show the top ImageNet classes (with their WordNet paths) and the nearest words to the photo's embedding."""
    from model.image_labels import describe_image

    description = describe_image(image, Settings().with_options(model=model), top=top, vocab_limit=WORD_VOCAB_LIMIT)
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
        if key == "label":
            table.add_column("WordNet path")
        for rank, row in enumerate(rows, 1):
            path = [" < ".join(row["path"])] if key == "label" else []
            table.add_row(str(rank), row[key], f"{row['score']:.3f}", *path)
        console.print(table)


def register(app: typer.Typer) -> None:
    app.command("labels")(labels)
