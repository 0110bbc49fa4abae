"""`devsearch query TEXT` and `devsearch similar IMAGE`: parse options, call search/, render.

Everything beyond typer is imported inside the commands (cli.app imports this module for every
command), and the search package itself never imports TensorFlow for a word query.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import List, Optional

import typer

from devsearch.cli.options import BACKEND, HOME, PRECISION, model_option

_N = typer.Option(10, "-n", "--top", metavar="N", min=1, max=100_000, help="How many photos to return.")
_MODEL = model_option("Model bundle folder; must be the model the store was built with.")
_IN = typer.Option(None, "--in", metavar="DIR", help="Only photos under this folder.")
_AFTER = typer.Option(None, "--after", metavar="DATE", help="Only photos taken on/after DATE (YYYY-MM-DD or ISO date-time; EXIF time, else mtime).")
_BEFORE = typer.Option(None, "--before", metavar="DATE", help="Only photos taken before DATE.")
_PATHS = typer.Option(False, "--paths", help="Print only the paths, one per line (for xargs); a name with a newline or control character is printed escaped, as $'...'.")
_NULL = typer.Option(False, "-0", "--null", help="Print only the paths, each ended by NUL, as their exact bytes (for xargs -0).")
_JSON = typer.Option(False, "--json", help="Print a JSON list of {rank, score, path, width, height, taken, cosine, mass, why}.")
def _a_number(value: Optional[float]) -> Optional[float]:
    if value is not None and math.isnan(value):
        raise typer.BadParameter("nan is not a score: give a number such as 0.5")
    return value


_MIN_SCORE = typer.Option(None, "--min-score", metavar="X", callback=_a_number,
                          help="Drop results scoring below X (none left: an empty list, said on stderr).")
_HTML = typer.Option(None, "--html", metavar="FILE", help="Write a self-contained HTML contact sheet to FILE.")
_THUMBNAILS = typer.Option(None, "--thumbnails/--no-thumbnails",
                           help="Table: a thumbnail column (default: on a colour terminal, off when piped).")


def _settings(home: Optional[Path], model: Optional[Path], **network: Optional[str]):
    from devsearch.core.settings import Settings

    return Settings().with_options(home=home, model=model, **network)


def _filters(under: Optional[Path], after: Optional[str], before: Optional[str]):
    from devsearch.search.filters import make_filters

    return make_filters(under, after, before)


def _check_outputs(paths: bool, null: bool, as_json: bool, html: Optional[Path]) -> None:
    """Refuse a bad choice of output before searching (and before loading anything heavy)."""
    if sum((paths or null, as_json, html is not None)) > 1:
        from devsearch.core.errors import UsageError

        raise UsageError("choose one output: --paths (with -0/--null for NUL-separated bytes), --json or --html FILE")
    if html is not None:
        from devsearch.search.contact_sheet import check_sheet_path

        check_sheet_path(html)


def _show(results, title: str, paths: bool, null: bool, as_json: bool, html: Optional[Path],
          thumbnails: Optional[bool], min_score: Optional[float]) -> None:
    from devsearch.search import render

    if not results:
        typer.echo("no photos matched" + (f" with a score of at least {min_score:g}" if min_score is not None else ""),
                   err=True)
    if null:
        typer.echo(render.render_null(results), nl=False)
    elif paths:
        typer.echo(render.render_paths(results), nl=False)
    elif as_json:
        typer.echo(render.render_json(results))
    elif html is not None:
        from devsearch.core.safe_text import visible
        from devsearch.search.contact_sheet import write_contact_sheet

        out = write_contact_sheet(results, html, title)
        typer.echo(f"wrote a contact sheet of {len(results)} photos to {visible(str(out))}")
    elif results:
        from devsearch.search.table import print_table

        print_table(results, title, thumbnails=thumbnails)


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
    null: bool = _NULL,
    as_json: bool = _JSON,
    html: Optional[Path] = _HTML,
    thumbnails: Optional[bool] = _THUMBNAILS,
    min_score: Optional[float] = _MIN_SCORE,
    explain: bool = typer.Option(False, "--explain", help="Also print (on stderr) each word's WordNet senses and the ImageNet classes they cover."),
) -> None:
    """Find photos by words, phrases or photos, with + and - and weights.

    Score = cosine + 10 x mass: mass is the classifier's probability on the ImageNet classes below
    the words' WordNet noun senses (`bird` covers toucan, jay, ...); words that cover none rank by cosine."""
    from devsearch.search.engine import search_text

    _check_outputs(paths, null, as_json, html)
    if explain:
        from devsearch.search.meaning import explain as explain_query
        from devsearch.search.render import render_explanation

        typer.echo(render_explanation(explain_query(text, add or (), subtract or ())), err=True)
    results = search_text(text, _settings(home, model), n, add=add or (), subtract=subtract or (),
                          filters=_filters(under, after, before), min_score=min_score)
    _show(results, f"query: {text}", paths, null, as_json, html, thumbnails, min_score)


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
    null: bool = _NULL,
    as_json: bool = _JSON,
    html: Optional[Path] = _HTML,
    thumbnails: Optional[bool] = _THUMBNAILS,
    backend: Optional[str] = BACKEND,
    precision: Optional[str] = PRECISION,
    min_score: Optional[float] = _MIN_SCORE,
) -> None:
    """Find photos that look like IMAGE (score: cosine of the photos' vectors)."""
    from devsearch.search.engine import search_similar

    _check_outputs(paths, null, as_json, html)
    settings = _settings(home, model, backend=backend, precision=precision)
    results = search_similar(image, settings, n, include_self=include_self,
                             filters=_filters(under, after, before), min_score=min_score)
    _show(results, f"similar to: {image}", paths, null, as_json, html, thumbnails, min_score)


def register(app: typer.Typer) -> None:
    app.command("query")(query)
    app.command("similar")(similar)
