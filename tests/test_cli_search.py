"""`devsearch query` / `similar` through typer's runner and as a real process, on a hand-made store."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.store.catalog import Store
from tests.tiny_library import make_bundle

ROOT = Path(__file__).resolve().parents[1]
NOT_FOR_A_WORD_QUERY = ("tensorflow", "keras", "gensim", "pyarrow", "sqlalchemy", "alembic", "hnswlib")


def run(*args: str):
    """In-process, as through a pipe 200 columns wide (so a long tmp path is not folded)."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def home(library) -> str:
    return str(library["settings"].home)


def test_json_output_has_the_keys(library):
    result = run("query", "dog", "--all", "-n", "2", "--home", home(library), "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [set(r) for r in rows] == [{"rank", "score", "match", "path", "width", "height", "taken", "date", "dated_by", "cosine", "mass",
                                       "people", "why", "reasons"}] * 2
    assert Path(rows[0]["path"]).name == "dog.jpg" and rows[0]["taken"] == rows[0]["date"] == "2020-01-01T00:00:00"


def test_paths_output_is_one_per_line(library):
    result = run("query", "beach + dog", "--all", "-n", "3", "--home", home(library), "--paths")
    assert result.exit_code == 0, result.stderr
    assert [Path(p).name for p in result.stdout.splitlines()][:1] == ["dog_beach.jpg"]
    assert len(result.stdout.splitlines()) == 3


def test_table_output(library):
    result = run("query", "cat", "--all", "--home", home(library), "-n", "1")
    assert result.exit_code == 0 and "cat.jpg" in result.stdout and "64x48" in result.stdout


def test_piped_table_output_has_no_thumbnails(library):
    result = run("query", "cat", "--all", "--home", home(library), "-n", "1")
    assert "▀" not in result.stdout and "\x1b[" not in result.stdout


def test_thumbnails_asked_for_come_in_colour_even_when_piped(library):
    """This store's files are not images, so each thumbnail cell says so (drawing: test_search_render)."""
    result = run("query", "cat", "--all", "--home", home(library), "-n", "1", "--thumbnails")
    assert result.exit_code == 0, result.stderr
    assert "photo" in result.stdout and "(unreadable)" in result.stdout and "\x1b[" in result.stdout


def test_add_subtract_and_filters(library):
    result = run("query", "beach", "--all", "--add", "people", "--home", home(library), "--paths", "-n", "1")
    assert Path(result.stdout.strip()).name == "beach_people.jpg"
    result = run("query", "dog", "--all", "--in", str(library["root"] / "cats"), "--after", "2023-06-01",
                 "--home", home(library), "--paths")
    assert [Path(p).name for p in result.stdout.splitlines()] == ["cat2.jpg"]


def test_a_folder_holding_every_indexed_folder_filters_nothing(library):
    with Store.open(library["settings"].home, writer=True) as store:
        store.add_roots([str(library["root"])])
    everything = run("query", "dog", "--all", "--home", home(library), "--paths", "-n", "6").stdout
    cats = run("query", "dog", "--all", "--in", str(library["root"] / "cats"), "--home", home(library), "--paths").stdout
    assert len(everything.splitlines()) == 6 and [Path(p).name for p in cats.splitlines()] == ["cat2.jpg", "cat.jpg"]
    for folder in (library["root"], library["root"].parent):
        assert run("query", "dog", "--all", "--in", str(folder), "--home", home(library), "--paths", "-n", "6").stdout == everything


def test_similar_html_contact_sheet(library, tmp_path):
    out = tmp_path / "sheet.html"
    result = run("similar", str(library["files"]["cat"]), "--all", "--home", home(library), "--html", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert "cat2.jpg" in page and ">cat.jpg<" not in page and page.count("<figure>") == 5


@pytest.mark.parametrize("args,code,message", [
    (["query", "dgo"], 5, "unknown word 'dgo'.*Did you mean: dog"),
    (["query", ""], 2, "empty query"),
    (["query", "dog + ./missing.jpg"], 6, "no such photo"),
    (["similar", "missing.jpg"], 6, "no such photo"),
    (["query", "dog", "--after", "last tuesday"], 2, "--after 'last tuesday' is not a date"),
    (["query", "dog", "--paths", "--json"], 2, "choose one output"),
    (["query", "dog", "--min-score", "nan"], 2, "nan is not a score"),
    (["similar", "https://example.com/cat.jpg"], 6, "https://example.com/cat.jpg is a URL: .*download it"),
    (["query", "dog + http://example.com/cat.jpg"], 6, "http://example.com/cat.jpg is a URL"),
])
def test_errors_are_one_line_and_nothing_on_stdout(library, args, code, message):
    result = run(*args, "--home", home(library))
    assert result.exit_code == code
    assert result.stdout == ""
    assert re.search(message, result.stderr) and result.stderr.count("\n") == 1


def test_empty_store_error(tmp_path):
    result = run("query", "dog", "--home", str(tmp_path / "nothing"))
    assert result.exit_code == 7 and result.stdout == ""
    assert "run `devsearch index PATH` first" in result.stderr


def test_other_model_error(library, tmp_path):
    make_bundle(tmp_path / "other", fingerprint="test+conse+tiny:ffffffffffffffff")
    result = run("query", "dog", "--home", home(library), "--model", str(tmp_path / "other"))
    assert result.exit_code == 7 and result.stdout == "" and "--rebuild" in result.stderr


def test_a_real_query_process_keeps_the_error_message_and_exit_status(library):
    """The console script ends search commands with os._exit: stderr and the status must survive it."""
    proc = subprocess.run(
        [sys.executable, "-m", "devsearch", "query", "zzqxjv", "--home", home(library)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DEVSEARCH_CACHE": str(library["settings"].cache)},
    )
    assert (proc.returncode, proc.stdout) == (5, "")
    assert proc.stderr.startswith("devsearch: error: unknown word 'zzqxjv'")


def test_a_word_query_process_loads_no_deep_learning_sqlalchemy_or_hnsw_graph(library):
    """A real `devsearch query dog` under `-X importtime`. SQLAlchemy is the writer's; the HNSW graph
    would cost a one-shot query more to load than scoring every photo exactly (the flat file)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "devsearch", "query", "dog", "--all", "--home", home(library),
         "--paths"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DEVSEARCH_CACHE": str(library["settings"].cache)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.splitlines()[0]).name == "dog.jpg"
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "numpy" in imported  # the listing works
    assert not imported & set(NOT_FOR_A_WORD_QUERY)
