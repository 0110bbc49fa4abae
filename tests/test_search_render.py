"""Outputs: paths for xargs, JSON with its keys, a contact sheet that carries its own thumbnails,
a table with half-block thumbnails on a colour terminal."""
from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import replace
from datetime import datetime

from PIL import Image
from rich.console import Console

from devsearch.search.contact_sheet import write_contact_sheet
from devsearch.search.render import (ASKED_CHARS, quoted_query, related_note, render_json, render_paths, render_score,
                                     render_why)
from devsearch.search.table import print_table
from devsearch.search.thumbnails import terminal_thumbnail
from devsearch.search.results import Reason, SearchResult, WordEvidence
from tests.conftest import FIXTURES

CAT = SearchResult(1, 0.91234567, str(FIXTURES / "chelsea.jpg"), 451, 300, datetime(2021, 5, 4, 13, 2, 1), 0.91234567)
ODD = SearchResult(2, 0.5, "/no/such/<b>&photo.jpg", None, None, None, 0.5)


def test_paths_one_per_line():
    assert render_paths([CAT, ODD]) == f"{CAT.path}\n{ODD.path}\n"
    assert render_paths([]) == ""


def test_json_has_the_keys_and_iso_dates():
    rows = json.loads(render_json([CAT, ODD]))
    assert list(rows[0]) == ["rank", "score", "match", "path", "width", "height", "taken", "date", "dated_by",
                             "cosine", "mass", "people",
                             "why", "reasons"]
    assert rows[0]["taken"] == "2021-05-04T13:02:01" and rows[0]["score"] == 0.912346
    assert rows[1]["taken"] is None and rows[1]["width"] is None


def test_contact_sheet_embeds_decodable_thumbnails(tmp_path):
    out = write_contact_sheet([CAT], tmp_path / "sub" / "sheet.html", "query: cat")
    page = out.read_text()
    (data,) = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)
    thumb = Image.open(io.BytesIO(base64.b64decode(data)))
    assert thumb.format == "JPEG" and max(thumb.size) == 256
    assert "91%" in page and "chelsea.jpg" in page and "<title>query: cat</title>" in page


def test_contact_sheet_escapes_paths_and_marks_unreadable_photos(tmp_path):
    page = write_contact_sheet([ODD], tmp_path / "sheet.html", "q").read_text()
    assert "<b>&photo" not in page and "&lt;b&gt;&amp;photo" in page
    assert "(photo unreadable)" in page and "data:image" not in page


def test_a_score_shows_as_a_percentage_never_zero_or_certain():
    assert [render_score(s) for s in (0.0001, 0.004, 0.38, 0.994, 0.9999)] == ["<1%", "<1%", "38%", "99%", ">99%"]


def test_why_names_the_classes_in_plain_words_and_nothing_that_added_nothing():
    toucan = replace(CAT, mass=0.8, why=(Reason("toucan", "n01843383", 0.81), Reason("jay", "n01580077", 0.004)))
    assert render_why(toucan) == "toucan 81%"
    assert render_why(CAT) == "close in meaning (cosine 0.91)"
    assert render_why(replace(CAT, cosine=-0.2)) == ""


def test_why_of_a_conjunction_says_what_each_word_found():
    parts = (WordEvidence("dog", 0.9, 0.4, 0.8, why=(Reason("golden retriever", "n02099601", 0.8),)),
             WordEvidence("beach", 0.5, 0.38, 0.0))
    assert render_why(replace(CAT, cosine=None, words=parts)) == (
        "dog: golden retriever 80%; beach: close in meaning to 'beach' (cosine 0.38)")


def test_the_note_on_related_photos_says_how_many_and_how_to_see_them():
    assert related_note("'volcano'", 0, 12) == "no photo clearly shows 'volcano'; 12 related ones: --all"
    assert related_note("'cat'", 1, 1) == "1 photo clearly shows 'cat'; 1 related one follows with --all"


def test_a_query_repeated_on_stderr_is_shown_safely_and_cut():
    assert quoted_query("dog") == "'dog'"
    assert "\x1b" not in quoted_query("\x1b[31mdog") and quoted_query("dog + " * 40).endswith("...'")
    assert len(quoted_query("dog + " * 40)) == ASKED_CHARS + 2


def _table(results, **options) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=140)
    print_table(results, "query: cat", console=console, **options)
    return buffer.getvalue()


def _colours(span) -> list[tuple[int, ...]]:
    """(foreground, background) of a thumbnail cell, as RGB tuples."""
    return [tuple(map(int, c)) for c in re.findall(r"rgb\((\d+),(\d+),(\d+)\)", str(span.style))]


def _near(colour: tuple[int, ...], target: tuple[int, ...]) -> bool:
    return max(abs(a - b) for a, b in zip(colour, target)) <= 40  # resampling blends the edge a little


def test_a_terminal_thumbnail_draws_two_pixels_per_cell_top_on_bottom(tmp_path):
    path = tmp_path / "red-over-blue.png"
    image = Image.new("RGB", (40, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 40, 20))
    image.save(path)
    text = terminal_thumbnail(path, cells=4)
    assert text.plain == "▀▀▀▀\n▀▀▀▀"
    top_row, bottom_row = text.spans[:4], text.spans[4:]
    assert all(_near(_colours(span)[0], (255, 0, 0)) for span in top_row)
    assert all(_near(_colours(span)[1], (0, 0, 255)) for span in bottom_row)


def test_a_terminal_thumbnail_keeps_the_photo_upright(tmp_path):
    path = tmp_path / "rotated.jpg"
    image = Image.new("RGB", (80, 40), (255, 255, 255))
    image.paste((0, 0, 0), (0, 0, 40, 40))  # stored black left, white right; EXIF 6 turns it 90 degrees clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, exif=exif)
    text = terminal_thumbnail(path, cells=4)
    assert text.plain == "▀▀\n▀▀"  # upright it is 2 wide and 4 tall: black on top, white below
    assert _near(_colours(text.spans[0])[0], (0, 0, 0)) and _near(_colours(text.spans[-1])[1], (255, 255, 255))


def test_an_unreadable_photo_gets_a_placeholder_thumbnail():
    assert terminal_thumbnail(ODD.path).plain == "(unreadable)"


def test_the_table_on_a_colour_terminal_has_a_thumbnail_column():
    output = _table([CAT])
    assert "photo" in output and "▀" in output and "\x1b[38;2;" in output


def test_the_table_leaves_thumbnails_out_when_asked():
    assert "▀" not in _table([CAT], thumbnails=False)


def test_contact_sheet_separates_size_and_date_with_a_dot_not_its_escaped_name(tmp_path):
    page = write_contact_sheet([CAT], tmp_path / "sheet.html", "q").read_text()
    assert "&amp;middot;" not in page
    assert re.search(r"451.300 &middot; 2021-05-04", page), page
