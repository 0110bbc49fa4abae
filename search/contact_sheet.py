"""The results as a self-contained HTML contact sheet (`query --html FILE`): every thumbnail embedded, so
the file opens anywhere on its own; names escaped, never read as markup."""
from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from devsearch.core.errors import InputError
from devsearch.core.safe_text import shown_path, visible
from devsearch.search.render import render_score, render_why, date_text, size_text
from devsearch.search.results import SearchResult
from devsearch.search.thumbnails import in_threads, thumbnail_data_uri


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; background: #fafafa; color: #222; }}
h1 {{ font-size: 1.2em; font-weight: 600; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(272px, 1fr)); gap: 14px; }}
figure {{ margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }}
.thumb {{ display: flex; align-items: center; justify-content: center; height: 256px; background: #f0f0f0; }}
.thumb img {{ max-width: 100%; max-height: 256px; }}
.missing {{ color: #999; font-size: 0.9em; }}
figcaption {{ font-size: 0.8em; margin-top: 6px; word-break: break-all; }}
.score {{ font-weight: 600; }}
.parts {{ color: #666; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}</p>
<div class="grid">
{figures}
</div>
</body></html>
"""

_FIGURE = """<figure><div class="thumb">{image}</div>
<figcaption><span class="score">#{rank} &middot; {score}</span> <span class="parts">{parts}</span><br><a href="{href}">{path}</a>{details}</figcaption></figure>"""


def _figure(result: SearchResult) -> str:
    uri = thumbnail_data_uri(result.path)
    alt = html.escape(visible(Path(result.path).name), quote=True)
    image = f'<img src="{uri}" alt="{alt}">' if uri else '<span class="missing">(photo unreadable)</span>'
    details = " &middot; ".join(html.escape(x) for x in (size_text(result), date_text(result)) if x)
    return _FIGURE.format(
        image=image, rank=result.rank, score=render_score(result.score), parts=html.escape(render_why(result)),
        href=html.escape(Path(result.path).as_uri() if Path(result.path).is_absolute() else result.path, quote=True),
        path=html.escape(shown_path(result.path)), details=f"<br>{details}" if details else "",
    )


def contact_sheet(results: Sequence[SearchResult], title: str) -> str:
    """The HTML page: every thumbnail embedded, so the file opens anywhere on its own."""
    summary = (f"{len(results)} photo{'s' if len(results) != 1 else ''}, best first; the score is the calibrated "
               "chance that the photo shows what was asked.")
    return _PAGE.format(title=html.escape(visible(title)), summary=summary,
                        figures="\n".join(in_threads(_figure, list(results))))


def check_sheet_path(out: Path) -> Path:
    """out as the contact sheet will be written (~ expanded), checked before any search is done:
    an InputError naming the field `html` when it is a folder, lies under a file, or cannot be looked at."""
    out = Path(os.path.expanduser(out))
    try:
        if out.is_dir():
            raise InputError(lambda name: f"{name('html')} {visible(str(out))} is a folder: give a file name, e.g. "
                                          f"{visible(str(out / 'results.html'))}")
        folder = out.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise InputError(lambda name: f"{name('html')} {visible(str(out))}: {visible(str(folder))} is a file, "
                                          "not a folder: give another path")
    except OSError as exc:
        raise InputError(lambda name, why=exc.strerror: f"{name('html')} {visible(str(out))}: {why}: "
                                                        "give another path") from None
    return out


def write_contact_sheet(results: Sequence[SearchResult], out: Path, title: str) -> Path:
    """Write the contact sheet to out (its folder is created); returns the path written."""
    out = check_sheet_path(out)
    page = contact_sheet(results, title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(lambda name, why=exc.strerror: f"cannot write {name('html')} {visible(str(out))}: {why}: "
                                                        "give another path") from None
    return out
