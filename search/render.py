"""Show results: a rich table, bare paths (for xargs), JSON, or a self-contained HTML contact sheet.

File names are shown literally: never read as markup, and with control characters, bidi overrides
and bytes that are not UTF-8 made visible (core/safe_text.py). `--paths` prints such a name escaped, as
bash's $'...'; `--null` (NUL-separated) and `--json` (surrogate escapes, \\udcXX) keep the exact bytes.

On a colour terminal the table has a thumbnail column drawn with half-block characters (each cell
two pixels, top and bottom colours), which any truecolor or 256-colour terminal shows, unlike the
kitty, iTerm2 or sixel image protocols that only some do. rich and PIL are imported inside the
functions that draw with them, so `--paths` and `--json` stay on the fast import path.
"""
from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from devsearch.core.safe_text import exact_json, is_safe, shown_path, visible
from devsearch.core.notices import warn
from devsearch.model.class_senses import load_class_senses
from devsearch.model.ranking import BETA
from devsearch.search.meaning import TermSenses
from devsearch.search.results import SearchResult

THUMBNAIL_PX = 256
EXPLAIN_CLASSES = 8  # class names listed per sense by --explain
TERMINAL_THUMBNAIL_CELLS = 12  # columns; rows are half that (two pixels per cell, cells twice as tall as wide)


def render_paths(results: Sequence[SearchResult]) -> str:
    """One path per line, best first (empty string when nothing matched). A path that holds a newline,
    a control character or bytes that are not UTF-8 is escaped as $'...', with one warning on stderr:
    a name can then never print as two lines or as another file's path."""
    unsafe = sum(not is_safe(r.path) for r in results)
    if unsafe:
        warn(f"{unsafe} path{'s' if unsafe != 1 else ''} with control characters or bytes that are not UTF-8 "
             "shown escaped as $'...': use -0/--null for the exact bytes", once=False)
    return "".join(f"{shown_path(r.path)}\n" for r in results)


def render_null(results: Sequence[SearchResult]) -> bytes:
    """The exact bytes of each path, each followed by NUL (for `xargs -0`), best first."""
    return b"".join(os.fsencode(r.path) + b"\0" for r in results)


def render_json(results: Sequence[SearchResult]) -> str:
    """A JSON list of {"rank", "score", "path", "width", "height", "taken", "cosine", "mass", "why"}. A
    name that is not valid UTF-8 keeps its exact bytes as surrogate escapes ("\\udce9" for the byte 0xE9,
    as Python's os.fsdecode does), so `os.fsencode(row["path"])` gives the file's name back."""
    return exact_json([r.as_dict() for r in results], indent=2)


def render_why(result: SearchResult) -> str:
    """The class that carried most of a result's mass, e.g. "toucan 0.81" (empty without mass)."""
    return f"{result.why[0].name} {result.why[0].p:.2f}" if result.why else ""


def render_explanation(terms: Sequence[TermSenses]) -> str:
    """`--explain`: each word's WordNet noun senses and the ImageNet classes they cover."""
    lines = [f"score = cosine + {BETA:g} x mass (the probability on the classes below the words' senses)"]
    for term in terms:
        text = visible(term.text)  # typed by anyone (a pasted query): never obeyed by the terminal
        if not term.senses:
            lines.append(f"{text}: no ImageNet class below its noun senses: ranked by cosine")
            continue
        lines.append(f"{text} (weight {term.weight:g}): {len(term.senses)} sense{'s' if len(term.senses) != 1 else ''}")
        senses = load_class_senses()
        for sense in term.senses:
            names = [senses.class_sense(i).name for i in sense.classes]
            shown = ", ".join(names[:EXPLAIN_CLASSES]) + (f", ... ({len(names)} in all)" if len(names) > EXPLAIN_CLASSES else "")
            lines.append(f"  {sense.name} ({sense.wnid}; {', '.join(sense.lemmas)}): {shown}")
    return "\n".join(lines)


def _size(result: SearchResult) -> str:
    return f"{result.width}x{result.height}" if result.width and result.height else ""


def _taken(result: SearchResult) -> str:
    return result.taken.isoformat(sep=" ", timespec="seconds") if result.taken else ""


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
    parts = any(r.mass for r in results)  # the score's parts, when classes counted
    if parts:
        table.add_column("cosine", justify="right")
        table.add_column("mass", justify="right")
        table.add_column("why")
    rows = [[str(r.rank), f"{r.score:.3f}", Text(shown_path(r.path)), _size(r), _taken(r),
             *([f"{r.cosine:.3f}", f"{r.mass:.3f}", render_why(r)] if parts else [])] for r in results]
    if thumbnails:
        rows = [[thumb, *row] for thumb, row in zip(_in_threads(terminal_thumbnail, [r.path for r in results]), rows)]
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _in_threads(function, items: list) -> list:
    """function over items on every core: JPEG decoding releases the GIL (a 12 MP photo takes ~45 ms).
    On Ctrl-C the items not started are dropped, not waited for."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        return list(pool.map(function, items))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def load_thumbnail(path: str | Path | BinaryIO, size: int):
    """The photo (a path or an open file) upright (EXIF orientation), fitted into size x size, as RGB
    on white; None if it cannot be read (missing, not a regular file, damaged: a hostile file only
    loses its thumbnail)."""
    from PIL import Image

    from devsearch.core.photo import exif_facts, open_source, upright

    try:
        with open_source(path) as handle, Image.open(handle) as image:
            if image.format == "JPEG":  # DCT scaling to the smallest size that still covers the fitted one
                scale = size / max(image.size)
                image.draft("RGB", (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            image = upright(image, exif_facts(image)[1])
            image.thumbnail((size, size))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            return image.convert("RGB")
    except Exception:  # Pillow raises many types on hostile files (struct.error, TypeError, ...)
        return None


def terminal_thumbnail(path: str | Path, cells: int = TERMINAL_THUMBNAIL_CELLS):
    """A rich Text of cells columns by cells/2 rows: each "▀" is two pixels (foreground on top,
    background below); "(unreadable)" when the photo cannot be read."""
    from rich.text import Text

    image = load_thumbnail(path, cells)
    if image is None:
        return Text("(unreadable)", style="dim")
    width, height = image.size
    pixels = image.load()
    text = Text()
    for y in range(0, height, 2):
        for x in range(width):
            top = pixels[x, y]
            bottom = pixels[x, y + 1] if y + 1 < height else None
            style = f"rgb({top[0]},{top[1]},{top[2]})"
            text.append("▀", style=style + (f" on rgb({bottom[0]},{bottom[1]},{bottom[2]})" if bottom else ""))
        if y + 2 < height:
            text.append("\n")
    return text


def thumbnail_data_uri(path: str | Path, size: int = THUMBNAIL_PX) -> str | None:
    """A base64 JPEG data URI of the photo fitted into size x size, or None if it cannot be read."""
    image = load_thumbnail(path, size)
    if image is None:
        return None
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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
<figcaption><span class="score">#{rank} &middot; {score:.3f}</span> <span class="parts">{parts}</span><br><a href="{href}">{path}</a>{details}</figcaption></figure>"""


def _figure(result: SearchResult) -> str:
    uri = thumbnail_data_uri(result.path)
    alt = html.escape(visible(Path(result.path).name), quote=True)
    image = f'<img src="{uri}" alt="{alt}">' if uri else '<span class="missing">(photo unreadable)</span>'
    details = " &middot; ".join(x for x in (_size(result), _taken(result)) if x)
    return _FIGURE.format(
        image=image, rank=result.rank, score=result.score, parts=html.escape(_parts(result)),
        href=html.escape(Path(result.path).as_uri() if Path(result.path).is_absolute() else result.path, quote=True),
        path=html.escape(shown_path(result.path)), details=f"<br>{html.escape(details)}" if details else "",
    )


def _parts(result: SearchResult) -> str:
    """The score's parts, e.g. "= cosine 0.210 + 10 x mass 0.060 (toucan 0.81)"; empty without mass."""
    if not result.mass:
        return ""
    why = f" ({render_why(result)})" if result.why else ""
    return f"= cosine {result.cosine:.3f} + {BETA:g} x mass {result.mass:.3f}{why}"


def contact_sheet(results: Sequence[SearchResult], title: str) -> str:
    """The HTML page: every thumbnail embedded, so the file opens anywhere on its own."""
    summary = (f"{len(results)} photo{'s' if len(results) != 1 else ''}, best first; "
               f"score = cosine similarity + {BETA:g} x mass (probability on the query words' classes).")
    return _PAGE.format(title=html.escape(visible(title)), summary=summary,
                        figures="\n".join(_in_threads(_figure, list(results))))


def check_sheet_path(out: Path) -> Path:
    """out as the contact sheet will be written (~ expanded), checked before any search is done:
    UsageError when it is a folder, lies under a file, or cannot be looked at."""
    from devsearch.core.errors import UsageError

    out = Path(os.path.expanduser(out))
    try:
        if out.is_dir():
            raise UsageError(f"--html {visible(str(out))} is a folder: give a file name, e.g. {visible(str(out / 'results.html'))}")
        folder = out.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise UsageError(f"--html {visible(str(out))}: {visible(str(folder))} is a file, not a folder: give another path")
    except OSError as exc:
        raise UsageError(f"--html {visible(str(out))}: {exc.strerror}: give another path") from None
    return out


def write_contact_sheet(results: Sequence[SearchResult], out: Path, title: str) -> Path:
    """Write the contact sheet to out (its folder is created); returns the path written."""
    from devsearch.core.errors import UsageError

    out = check_sheet_path(out)
    page = contact_sheet(results, title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --html {visible(str(out))}: {exc.strerror}: give another path") from None
    return out
