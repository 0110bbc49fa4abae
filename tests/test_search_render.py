"""Outputs: paths for xargs, JSON with its keys, a contact sheet that carries its own thumbnails."""
from __future__ import annotations

import base64
import io
import json
import re
from datetime import datetime

from PIL import Image

from search.render import render_json, render_paths, write_contact_sheet
from search.results import SearchResult
from tests.conftest import FIXTURES

CAT = SearchResult(1, 0.91234567, str(FIXTURES / "chelsea.jpg"), 451, 300, datetime(2021, 5, 4, 13, 2, 1))
ODD = SearchResult(2, 0.5, "/no/such/<b>&photo.jpg", None, None, None)


def test_paths_one_per_line():
    assert render_paths([CAT, ODD]) == f"{CAT.path}\n{ODD.path}\n"
    assert render_paths([]) == ""


def test_json_has_the_keys_and_iso_dates():
    rows = json.loads(render_json([CAT, ODD]))
    assert list(rows[0]) == ["rank", "score", "path", "width", "height", "taken"]
    assert rows[0]["taken"] == "2021-05-04T13:02:01" and rows[0]["score"] == 0.912346
    assert rows[1]["taken"] is None and rows[1]["width"] is None


def test_contact_sheet_embeds_decodable_thumbnails(tmp_path):
    out = write_contact_sheet([CAT], tmp_path / "sub" / "sheet.html", "query: cat")
    page = out.read_text()
    (data,) = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)
    thumb = Image.open(io.BytesIO(base64.b64decode(data)))
    assert thumb.format == "JPEG" and max(thumb.size) == 256
    assert "0.912" in page and "chelsea.jpg" in page and "<title>query: cat</title>" in page


def test_contact_sheet_escapes_paths_and_marks_unreadable_photos(tmp_path):
    page = write_contact_sheet([ODD], tmp_path / "sheet.html", "q").read_text()
    assert "<b>&photo" not in page and "&lt;b&gt;&amp;photo" in page
    assert "(photo unreadable)" in page and "data:image" not in page
