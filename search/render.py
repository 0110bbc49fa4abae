"""Show results: a rich table, bare paths (for xargs), JSON, or a self-contained HTML contact sheet.

On a colour terminal the table has a thumbnail column drawn with half-block characters (each cell
two pixels, top and bottom colours), which any truecolor or 256-colour terminal shows, unlike the
kitty, iTerm2 or sixel image protocols that only some do. rich and PIL are imported inside the
functions that draw with them, so `--paths` and `--json` stay on the fast import path.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from search.results import SearchResult

THUMBNAIL_PX = 256
TERMINAL_THUMBNAIL_CELLS = 12  # columns; rows are half that (two pixels per cell, cells twice as tall as wide)


def render_paths(results: Sequence[SearchResult]) -> str:
    """One path per line, best first (empty string when nothing matched)."""
    return "".join(f"{r.path}\n" for r in results)


def render_json(results: Sequence[SearchResult]) -> str:
    """A JSON list of {"rank", "score", "path", "width", "height", "taken"}."""
    return json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False)


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

    console = console or Console(force_terminal=True if thumbnails else None)
    if thumbnails is None:
        thumbnails = console.is_terminal and console.color_system in ("truecolor", "256")
    table = Table(title=title, title_justify="left")
    if thumbnails:
        table.add_column("photo", width=TERMINAL_THUMBNAIL_CELLS, no_wrap=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("taken")
    rows = [[str(r.rank), f"{r.score:.3f}", r.path, _size(r), _taken(r)] for r in results]
    if thumbnails:
        rows = [[thumb, *row] for thumb, row in zip(_in_threads(terminal_thumbnail, [r.path for r in results]), rows)]
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _in_threads(function, items: list) -> list:
    """function over items on every core: JPEG decoding releases the GIL (a 12 MP photo takes ~45 ms)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(function, items))


def load_thumbnail(path: str | Path | BinaryIO, size: int):
    """The photo (a path or an open file) upright (EXIF orientation), fitted into size x size, as RGB
    on white; None if unreadable."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            if image.format == "JPEG":  # DCT scaling to the smallest size that still covers the fitted one
                scale = size / max(image.size)
                image.draft("RGB", (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((size, size))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            return image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
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
<figcaption><span class="score">#{rank} &middot; {score:.3f}</span><br><a href="{href}">{path}</a>{details}</figcaption></figure>"""


def _figure(result: SearchResult) -> str:
    uri = thumbnail_data_uri(result.path)
    alt = html.escape(Path(result.path).name, quote=True)
    image = f'<img src="{uri}" alt="{alt}">' if uri else '<span class="missing">(photo unreadable)</span>'
    details = " &middot; ".join(x for x in (_size(result), _taken(result)) if x)
    return _FIGURE.format(
        image=image, rank=result.rank, score=result.score,
        href=html.escape(Path(result.path).as_uri() if Path(result.path).is_absolute() else result.path, quote=True),
        path=html.escape(result.path), details=f"<br>{html.escape(details)}" if details else "",
    )


def contact_sheet(results: Sequence[SearchResult], title: str) -> str:
    """The HTML page: every thumbnail embedded, so the file opens anywhere on its own."""
    summary = f"{len(results)} photo{'s' if len(results) != 1 else ''}, best first; score = cosine similarity."
    return _PAGE.format(title=html.escape(title), summary=summary,
                        figures="\n".join(_in_threads(_figure, list(results))))


def write_contact_sheet(results: Sequence[SearchResult], out: Path, title: str) -> Path:
    """Write the contact sheet to out (its folder is created); returns the path written."""
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(contact_sheet(results, title), encoding="utf-8")
    return out
