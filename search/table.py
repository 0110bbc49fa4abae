"""The results as a rich table: rank, score (a percentage), path, size, capture time, why in plain words, and on a
colour terminal a thumbnail column (search/thumbnails.py). rich is imported when a table is drawn."""
from __future__ import annotations

from collections.abc import Sequence

from devsearch.core.safe_text import shown_path, visible
from devsearch.search.render import render_score, render_why, size_text, taken_text
from devsearch.search.results import SearchResult
from devsearch.search.thumbnails import TERMINAL_THUMBNAIL_CELLS, in_threads, terminal_thumbnail


def print_table(results: Sequence[SearchResult], title: str, *, thumbnails: bool | None = None,
                console=None) -> None:
    """A rich table: rank, score, path, size, capture time, and a thumbnail column when thumbnails
    is True (colours even through a pipe, e.g. into `less -R`), or when it is None (auto) and the
    console is a colour terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console(force_terminal=True if thumbnails else None)
    if thumbnails is None:
        thumbnails = console.is_terminal and console.color_system in ("truecolor", "256")
    table = Table(title=Text(visible(title)), title_justify="left")
    if thumbnails:
        table.add_column("photo", width=TERMINAL_THUMBNAIL_CELLS, no_wrap=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("taken")
    table.add_column("why")
    rows = [[str(r.rank), render_score(r.score), Text(shown_path(r.path)), size_text(r), taken_text(r), render_why(r)]
            for r in results]
    if thumbnails:
        rows = [[thumb, *row] for thumb, row in zip(in_threads(terminal_thumbnail, [r.path for r in results]), rows)]
    for row in rows:
        table.add_row(*row)
    console.print(table)
