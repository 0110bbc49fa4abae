"""`devsearch query TEXT` and `devsearch similar IMAGE`: parse options, call search/, render.

Everything beyond typer is imported inside the commands (cli.app imports this module for every
command), and the search package itself never imports TensorFlow for a word query.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cli.options import BACKEND, HOME, PRECISION, model_option

_N = typer.Option(10, "-n", "--top", metavar="N", min=1, max=100_000, help="How many photos to return.")
_MODEL = model_option("Model bundle folder; must be the model the store was built with.")
_IN = typer.Option(None, "--in", metavar="DIR", help="Only photos under this folder.")
_AFTER = typer.Option(None, "--after", metavar="DATE", help="Only photos taken on/after DATE (YYYY-MM-DD or ISO date-time; EXIF time, else mtime).")
_BEFORE = typer.Option(None, "--before", metavar="DATE", help="Only photos taken before DATE.")
_PATHS = typer.Option(False, "--paths", help="Print only the paths, one per line (for xargs).")
_JSON = typer.Option(False, "--json", help="Print a JSON list of {rank, score, path, width, height, taken}.")
_HTML = typer.Option(None, "--html", metavar="FILE", help="Write a self-contained HTML contact sheet to FILE.")
_THUMBNAILS = typer.Option(None, "--thumbnails/--no-thumbnails",
                           help="Table: a thumbnail column (default: on a colour terminal, off when piped).")


def _settings(home: Optional[Path], model: Optional[Path], **network: Optional[str]):
    from core.settings import Settings

    return Settings().with_options(home=home, model=model, **network)


def _filters(under: Optional[Path], after: Optional[str], before: Optional[str]):
    from search.filters import make_filters

    return make_filters(under, after, before)


def _check_outputs(paths: bool, as_json: bool, html: Optional[Path]) -> None:
    if sum((paths, as_json, html is not None)) > 1:
        from core.errors import UsageError

        raise UsageError("choose one output: --paths, --json or --html FILE")


def _show(results, title: str, paths: bool, as_json: bool, html: Optional[Path], thumbnails: Optional[bool]) -> None:
    from search import render

    if paths:
        typer.echo(render.render_paths(results), nl=False)
    elif as_json:
        typer.echo(render.render_json(results))
    elif html is not None:
        out = render.write_contact_sheet(results, html, title)
        typer.echo(f"wrote a contact sheet of {len(results)} photos to {out}")
    elif results:
        render.print_table(results, title, thumbnails=thumbnails)
    else:
        typer.echo("no photos matched", err=True)


def query(
    text: str = typer.Argument(..., metavar="TEXT", help='Words, a phrase, or arithmetic: "2:golden retriever + beach - people" (terms may be photo paths).'),
    n: int = _N,
    home: Optional[Path] = HOME,
    model: Optional[Path] = _MODEL,
    add: Optional[List[str]] = typer.Option(None, "--add", metavar="TERM", help="Add a term (W:term for a weight); repeatable."),
    subtract: Optional[List[str]] = typer.Option(None, "--subtract", metavar="TERM", help="Subtract a term; repeatable."),
    under: Optional[Path] = _IN,
    after: Optional[str] = _AFTER,
    before: Optional[str] = _BEFORE,
    paths: bool = _PATHS,
    as_json: bool = _JSON,
    html: Optional[Path] = _HTML,
    thumbnails: Optional[bool] = _THUMBNAILS,
) -> None:
    """Find photos by words, phrases or photos, with + and - and weights."""
    from search.engine import search_text

    _check_outputs(paths, as_json, html)
    results = search_text(text, _settings(home, model), n, add=add or (), subtract=subtract or (),
                          filters=_filters(under, after, before))
    _show(results, f"query: {text}", paths, as_json, html, thumbnails)


def similar(
    image: Path = typer.Argument(..., metavar="IMAGE", help="A photo file."),
    n: int = _N,
    include_self: bool = typer.Option(False, "--include-self", help="Keep the photo itself in the results."),
    home: Optional[Path] = HOME,
    model: Optional[Path] = _MODEL,
    under: Optional[Path] = _IN,
    after: Optional[str] = _AFTER,
    before: Optional[str] = _BEFORE,
    paths: bool = _PATHS,
    as_json: bool = _JSON,
    html: Optional[Path] = _HTML,
    thumbnails: Optional[bool] = _THUMBNAILS,
    backend: Optional[str] = BACKEND,
    precision: Optional[str] = PRECISION,
) -> None:
    """Find photos that look like IMAGE."""
    from search.engine import search_similar

    _check_outputs(paths, as_json, html)
    settings = _settings(home, model, backend=backend, precision=precision)
    results = search_similar(image, settings, n, include_self=include_self,
                             filters=_filters(under, after, before))
    _show(results, f"similar to: {image}", paths, as_json, html, thumbnails)


def register(app: typer.Typer) -> None:
    app.command("query")(query)
    app.command("similar")(similar)
