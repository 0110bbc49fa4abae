"""The results as a table that fits the terminal: rank, score (a percentage), path, then size, date and why
in plain words while there is room, and on a colour terminal a thumbnail column (search/thumbnails.py).

The columns depend on the terminal's width only, never on the results, so they stay the same from one query
to the next; the path, what a person needs, is never wrapped: it is shown relative to the current folder
when inside it and shortened from the left. rich is imported when a table is drawn."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from devsearch.core.safe_text import shown_path, visible
from devsearch.search.render import date_text, render_score, render_why, size_text
from devsearch.search.results import SearchResult
from devsearch.search.thumbnails import TERMINAL_THUMBNAIL_CELLS, in_threads, terminal_thumbnail

PATH_MIN = 24  # a path column narrower than this drops the next optional column instead
SCORE_WIDTH = len("score")  # the header is wider than any score (">99%")
FILE_MARK = "*"  # after a date that is the file's time; the table's caption says so


@dataclass(frozen=True)
class _Optional:
    header: str
    width: int  # the most the column takes (its text is cut with an ellipsis beyond)
    justify: str = "left"


# Dropped from the last as the terminal narrows: why first, then the date, then the size.
_OPTIONAL = (_Optional("size", 11, "right"), _Optional("date", 17), _Optional("why", 32))


def _borders(optional: int, thumbnails: bool) -> int:
    """The cells a table spends outside its text: a space each side of every column and a rule between."""
    return 3 * (3 + optional + thumbnails) + 1


def fitting_columns(width: int, thumbnails: bool, rank_width: int = 3) -> list[_Optional]:
    """The optional columns a terminal of this width has room for beside rank, score and a path of PATH_MIN."""
    fixed = rank_width + SCORE_WIDTH + PATH_MIN + (TERMINAL_THUMBNAIL_CELLS if thumbnails else 0)
    for count in range(len(_OPTIONAL), -1, -1):
        columns = _OPTIONAL[:count]
        if fixed + sum(column.width for column in columns) + _borders(count, thumbnails) <= width:
            return list(columns)
    return []


def path_text(path: str, width: int, here: str | None = None) -> str:
    """The path as shown (escaped), relative to `here` (the current folder) when inside it, and shortened
    from the left with an ellipsis to at most width characters: the end of a path names the photo."""
    here = os.getcwd() if here is None else here
    prefix = here.rstrip(os.sep) + os.sep
    shown = shown_path(path[len(prefix):] if path.startswith(prefix) else path)
    return shown if len(shown) <= width else "…" + shown[len(shown) - width + 1:]


def print_table(results: Sequence[SearchResult], title: str, *, thumbnails: bool | None = None,
                console=None) -> None:
    """The table, with a thumbnail column when thumbnails is True (colours even through a pipe, e.g. into
    `less -R`), or when it is None (auto) and the console is a colour terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console(force_terminal=True if thumbnails else None)
    if thumbnails is None:
        thumbnails = console.is_terminal and console.color_system in ("truecolor", "256")
    rank_width = max(1, len(str(max((r.rank for r in results), default=1))))
    optional = fitting_columns(console.width, bool(thumbnails), rank_width)
    path_width = max(PATH_MIN, console.width - _borders(len(optional), bool(thumbnails)) - rank_width - SCORE_WIDTH - sum(c.width for c in optional)
                     - (TERMINAL_THUMBNAIL_CELLS if thumbnails else 0))
    marked = any(r.dated_by == "file" for r in results) and any(c.header == "date" for c in optional)
    table = Table(title=Text(visible(title)), title_justify="left",
                  caption=f"{FILE_MARK} the file's time: the photo has no capture date" if marked else None,
                  caption_justify="left")
    if thumbnails:
        table.add_column("photo", width=TERMINAL_THUMBNAIL_CELLS, no_wrap=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("path", no_wrap=True, min_width=min(PATH_MIN, path_width))
    for column in optional:
        table.add_column(column.header, justify=column.justify, no_wrap=True, overflow="ellipsis",
                         max_width=column.width)
    cells = {"size": size_text, "date": lambda r: date_text(r, FILE_MARK), "why": render_why}
    rows = [[str(r.rank), render_score(r.score), Text(path_text(r.path, path_width)),
             *(Text(visible(cells[c.header](r))) for c in optional)] for r in results]
    if thumbnails:
        rows = [[thumb, *row] for thumb, row in zip(in_threads(terminal_thumbnail, [r.path for r in results]), rows)]
    for row in rows:
        table.add_row(*row)
    console.print(table)
