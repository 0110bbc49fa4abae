"""`devsearch query TEXT` and `devsearch similar IMAGE`: parse options, call search/, render.

Everything beyond typer is imported inside the commands (cli.app imports this module for every
command), and the search package itself never imports TensorFlow for a word query.
"""
from __future__ import annotations

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
_JSON = typer.Option(False, "--json", help="Print a JSON list of {rank, score, match, path, width, height, taken, date, dated_by, cosine, mass, people, why, reasons}.")
def _a_score(value: Optional[float]) -> Optional[float]:
    if value is not None and not 0.0 <= value <= 1.0:  # nan fails both
        raise typer.BadParameter(f"{value:g} is not a score: give a score from 0 to 1, such as 0.5")
    return value


_MIN_SCORE = typer.Option(None, "--min-score", metavar="X", callback=_a_score,
                          help="The cut-off, a score from 0 to 1: photos scoring at least X match (default: the "
                               "calibrated match threshold); the rest are dropped.")
_ALL = typer.Option(False, "--all", help="Also print the related photos (among the N best) that do not match, after the matches.")
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


def _show(results, title: str, asked: str, paths: bool, null: bool, as_json: bool, html: Optional[Path],
          thumbnails: Optional[bool], min_score: Optional[float], show_all: bool) -> None:
    """The matches (with --all, the related photos after them), and on stderr how many related
    photos were left out."""
    from devsearch.search import render

    matches = [r for r in results if r.match]
    related = len(results) - len(matches)
    if not results:
        typer.echo("no photos matched" + (f" with a score of at least {min_score:g}" if min_score is not None else ""),
                   err=True)
    elif related and not show_all:
        typer.echo(render.related_note(asked, len(matches), related), err=True)
        results = matches
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
    show_all: bool = _ALL,
    explain: bool = typer.Option(False, "--explain", help="Also print (on stderr) each word's WordNet senses and the ImageNet classes they cover."),
) -> None:
    """Find photos by words, phrases or photos, with + and - and weights.

    Prints the photos that match, best first: the score (0-1) is the calibrated chance that a photo
    shows what was asked, from the cosine and the classifier's probability on the classes below the
    words' WordNet senses; a phrase such as `dog on beach` asks for photos showing each word."""
    from devsearch.search.engine import search_text

    _check_outputs(paths, null, as_json, html)
    if explain:
        from devsearch.search.engine import explain_text
        from devsearch.search.render import render_explanation

        typer.echo(render_explanation(explain_text(text, _settings(home, model), add=add or (), subtract=subtract or ())),
                   err=True)
    results = search_text(text, _settings(home, model), n, add=add or (), subtract=subtract or (),
                          filters=_filters(under, after, before), min_score=min_score)
    from devsearch.search.render import quoted_query

    _show(results, f"query: {text}", quoted_query(text), paths, null, as_json, html, thumbnails, min_score, show_all)


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
    show_all: bool = _ALL,
) -> None:
    """Find photos that look like IMAGE (score: the calibrated chance that a photo shows what IMAGE shows)."""
    from devsearch.search.engine import search_similar

    _check_outputs(paths, null, as_json, html)
    settings = _settings(home, model, backend=backend, precision=precision)
    results = search_similar(image, settings, n, include_self=include_self,
                             filters=_filters(under, after, before), min_score=min_score)
    from devsearch.core.safe_text import visible

    _show(results, f"similar to: {image}", f"what {visible(image.name)} shows", paths, null, as_json, html, thumbnails,
          min_score, show_all)


def register(app: typer.Typer) -> None:
    app.command("query")(query)
    app.command("similar")(similar)
