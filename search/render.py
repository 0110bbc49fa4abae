"""Show results: a rich table, bare paths (for xargs), JSON, or a self-contained HTML contact sheet.

rich and PIL are imported inside the functions that draw with them, so `--paths` and `--json`
stay on the fast import path.
"""
from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path

from search.results import SearchResult

THUMBNAIL_PX = 256


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


def print_table(results: Sequence[SearchResult], title: str) -> None:
    """A rich table on stdout: rank, score, path, size, capture time."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("taken")
    for r in results:
        table.add_row(str(r.rank), f"{r.score:.3f}", r.path, _size(r), _taken(r))
    Console().print(table)


def thumbnail_data_uri(path: str | Path, size: int = THUMBNAIL_PX) -> str | None:
    """A base64 JPEG data URI of the photo fitted into size x size, or None if it cannot be read."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            if image.format == "JPEG":
                image.draft("RGB", (size, size))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((size, size))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=82)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
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
                        figures="\n".join(_figure(r) for r in results))


def write_contact_sheet(results: Sequence[SearchResult], out: Path, title: str) -> Path:
    """Write the contact sheet to out (its folder is created); returns the path written."""
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(contact_sheet(results, title), encoding="utf-8")
    return out
