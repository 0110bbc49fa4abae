"""The results table at any terminal width: every path on one line (relative to the current folder and
shortened from the left), optional columns dropped in a fixed order as the terminal narrows, the same
columns for every query, and the date the filters use, marked when it is the file's time."""
from __future__ import annotations

import io
import os
from datetime import datetime

import pytest
from rich.console import Console

from devsearch.search.results import Reason, SearchResult
from devsearch.search.table import path_text, print_table

DEEP = "/home/someone/Pictures/2024/holidays/brittany/beach-day-with-the-family/IMG_20240714_153012.jpg"
TAKEN = datetime(2024, 7, 14, 15, 30)
WITH_WHY = SearchResult(1, 0.93, DEEP, 4032, 3024, TAKEN, 0.4, 0.8, why=(Reason("seashore", "n09428293", 0.62),),
                        match=True)
NO_CAPTURE = SearchResult(2, 0.2, "/tmp/screens/shot.png", 1920, 1080, None, 0.3,
                          mtime=datetime(2025, 5, 14, 9, 0).timestamp())


def table(results: list[SearchResult], width: int) -> list[str]:
    out = io.StringIO()
    print_table(results, "query: beach", thumbnails=False, console=Console(file=out, width=width, color_system=None))
    return out.getvalue().splitlines()


def header(lines: list[str]) -> str:
    return next(line for line in lines if "path" in line and "score" in line)


@pytest.mark.parametrize("width", [40, 60, 80, 100, 140, 200])
def test_no_line_is_wider_than_the_terminal_and_each_path_takes_one_line(width: int) -> None:
    lines = table([WITH_WHY, NO_CAPTURE], width)
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 2  # one line a result: nothing wrapped
    assert "IMG_20240714_153012.jpg" in rows[0] and "shot.png" in rows[1]


def test_optional_columns_go_why_first_then_date_then_size() -> None:
    def shown(width: int) -> list[str]:
        return [name for name in ("size", "date", "why") if name in header(table([WITH_WHY], width))]

    seen = [shown(width) for width in (200, 100, 70, 40)]
    assert seen == [["size", "date", "why"], ["size", "date"], ["size"], []]


@pytest.mark.parametrize("width", [80, 140])
def test_the_columns_are_the_same_whatever_the_results(width: int) -> None:
    def names(results: list[SearchResult]) -> list[str]:
        return header(table(results, width)).replace("┃", " ").split()

    assert names([WITH_WHY]) == names([NO_CAPTURE])


def test_a_path_is_shortened_from_the_left_and_keeps_its_name() -> None:
    text = path_text(DEEP, 30, here="/elsewhere")
    assert len(text) == 30 and text.startswith("…") and text.endswith("IMG_20240714_153012.jpg")


def test_a_path_under_the_current_folder_is_shown_relative_to_it() -> None:
    assert path_text(DEEP, 200, here="/home/someone/Pictures") == "2024/holidays/brittany/" \
        "beach-day-with-the-family/IMG_20240714_153012.jpg"
    assert path_text(DEEP, 200, here=os.sep + "home" + os.sep + "some") == DEEP  # a prefix of a name is not a folder


def test_a_date_from_the_file_is_marked_and_explained() -> None:
    lines = table([WITH_WHY, NO_CAPTURE], 140)
    text = "\n".join(lines)
    assert "2024-07-14 15:30 " in text and "2025-05-14 09:00*" in text
    assert "the file's time" in lines[-1]


def test_no_mark_is_explained_when_every_date_is_a_capture_date() -> None:
    assert "file's time" not in "\n".join(table([WITH_WHY], 140))


def test_json_gives_the_date_the_filters_use_and_where_it_came_from() -> None:
    assert NO_CAPTURE.as_dict()["date"] == "2025-05-14T09:00:00" and NO_CAPTURE.as_dict()["dated_by"] == "file"
    assert WITH_WHY.as_dict()["dated_by"] == "taken" and WITH_WHY.as_dict()["taken"] == TAKEN.isoformat()
