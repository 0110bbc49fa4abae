"""Thumbnails of results: drawn in the terminal with half-block characters (each cell two pixels, top
and bottom colours), which any truecolor or 256-colour terminal shows, unlike the kitty, iTerm2 or
sixel image protocols that only some do; or as a JPEG data URI for the HTML contact sheet. The photo
is read by core/photo.load_thumbnail (PIL, imported when a thumbnail is drawn)."""
from __future__ import annotations

import base64
import io
import os
from pathlib import Path

THUMBNAIL_PX = 256
TERMINAL_THUMBNAIL_CELLS = 12  # columns; rows are half that (two pixels per cell, cells twice as tall as wide)


def in_threads(function, items: list) -> list:
    """function over items on every core: JPEG decoding releases the GIL (a 12 MP photo takes ~45 ms).
    On Ctrl-C the items not started are dropped, not waited for."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        return list(pool.map(function, items))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def terminal_thumbnail(path: str | Path, cells: int = TERMINAL_THUMBNAIL_CELLS):
    """A rich Text of cells columns by cells/2 rows: each "▀" is two pixels (foreground on top,
    background below); "(unreadable)" when the photo cannot be read."""
    from rich.text import Text

    from devsearch.core.photo import load_thumbnail

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
    from devsearch.core.photo import load_thumbnail

    image = load_thumbnail(path, size)
    if image is None:
        return None
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
