"""`devsearch index` and `devsearch status`: through typer's runner and as real processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.model.manifest import Manifest, write_manifest
from tests.indexer_support import (BAD, GOOD, RED_PEOPLE, index_tree, indexed_rows, make_tree, photo, photo_folder,
                                   start_slow_indexer, wait_for_rows)

REPO = Path(__file__).resolve().parent.parent


def devsearch(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *options.pop("python_flags", []), "-m", "devsearch", *args], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, **options.pop("env", {})}, **options)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict:
    """The photo tree indexed once by a real `devsearch index` process with the default model."""
    base = tmp_path_factory.mktemp("cli-index")
    make_tree(base / "tree")
    result = devsearch("index", str(base / "tree"), "--home", str(base / "home"))
    return {"base": base, "result": result}


@pytest.mark.slow
def test_index_in_a_real_process_reports_new_and_failed(real_run) -> None:
    result = real_run["result"]
    assert result.returncode == 0, result.stderr
    assert f"{len(GOOD)} new" in result.stdout and f"{len(BAD)} failed" in result.stdout


@pytest.mark.slow
def test_status_json_counts_what_was_indexed(real_run) -> None:
    result = CliRunner().invoke(app, ["status", "--home", str(real_run["base"] / "home"), "--json"])
    status = json.loads(result.stdout)
    assert (status["images"], status["failed"], status["deleted"]) == (len(GOOD), len(BAD), 0)
    assert status["roots"] == [str((real_run["base"] / "tree").resolve())]
    assert status["model"].startswith("efficientnet-lite0") and status["last_run"]["outcome"] == "complete"


@pytest.mark.slow
def test_progress_is_plain_lines_when_not_on_a_terminal(real_run) -> None:
    total = len(GOOD) + len(BAD)
    assert f"indexing {total} files" in real_run["result"].stderr
    assert f"{total}/{total} files" in real_run["result"].stderr


def test_rerun_on_an_unchanged_tree_never_imports_tensorflow(tmp_path) -> None:
    make_tree(tmp_path / "tree")
    index_tree(tmp_path / "tree", tmp_path / "home", people=RED_PEOPLE)
    result = devsearch("index", str(tmp_path / "tree"), "--home", str(tmp_path / "home"),
                       python_flags=["-X", "importtime"])
    assert result.returncode == 0 and f"{len(GOOD) + len(BAD)} unchanged" in result.stdout
    assert "tensorflow" not in result.stderr and "keras" not in result.stderr


def test_no_people_leaves_photos_indexed_without_the_detectors_unchanged(tmp_path) -> None:
    make_tree(tmp_path / "tree")
    index_tree(tmp_path / "tree", tmp_path / "home")  # no people detectors
    result = devsearch("index", str(tmp_path / "tree"), "--home", str(tmp_path / "home"), "--no-people",
                       python_flags=["-X", "importtime"])
    assert result.returncode == 0 and f"{len(GOOD) + len(BAD)} unchanged" in result.stdout
    assert "tensorflow" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_saves_what_is_done_and_exits_130(tmp_path, model_cache) -> None:
    root = photo_folder(tmp_path / "many", 12)
    process = subprocess.Popen(
        [sys.executable, "-m", "devsearch", "index", str(root), "--home", str(tmp_path / "home"), "--batch-size", "2"],
        cwd=REPO, env={**os.environ, "DEVSEARCH_DEBUG_BATCH_DELAY": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(tmp_path / "home", 2, 120)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "devsearch: stopping after the batch in flight" in stderr  # said as the signal arrives
    assert stdout.startswith("interrupted:") and "run the same command again" in stdout
    assert 2 <= indexed_rows(tmp_path / "home") < 12


def test_a_second_indexer_on_the_same_store_names_the_first(tmp_path) -> None:
    root = photo_folder(tmp_path / "many", 24)
    first = start_slow_indexer(root, tmp_path / "home")
    try:
        assert first.stdout.readline().strip() == "locked"
        result = CliRunner().invoke(app, ["index", str(root), "--home", str(tmp_path / "home")])
    finally:
        first.kill()
        first.communicate()
    assert result.exit_code == 7 and f"(pid {first.pid})" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_path_is_one_line_and_exit_2(tmp_path) -> None:
    result = CliRunner().invoke(app, ["index", str(tmp_path / "nope"), "--home", str(tmp_path / "home")])
    assert result.exit_code == 2 and result.stderr == f"devsearch: error: no such file or directory: {tmp_path / 'nope'}\n"


def test_an_unknown_ray_address_is_one_line_and_touches_no_store(tmp_path) -> None:
    photo_folder(tmp_path / "photos", 1)
    result = CliRunner().invoke(app, ["index", str(tmp_path / "photos"), "--home", str(tmp_path / "home"),
                                      "--ray", "cluster"])
    assert result.exit_code == 2 and not (tmp_path / "home").exists()
    assert result.stderr == ("devsearch: error: --ray 'cluster' is not a Ray address: "
                             "use local, auto or ray://HOST:PORT\n")


def test_another_model_on_a_bound_store_says_to_rebuild(tmp_path) -> None:
    root = tmp_path / "one"
    root.mkdir()
    photo(1).save(root / "a.jpg")
    index_tree(root, tmp_path / "home")
    other = tmp_path / "other-model"
    write_manifest(other, Manifest(fingerprint="other-space:9", dims=50, backbone="none", head="none", words="none",
                                   words_name="none", labels="none"))
    result = CliRunner().invoke(app, ["index", str(root), "--home", str(tmp_path / "home"), "--model", str(other)])
    assert result.exit_code == 7 and "--rebuild" in result.stderr and "other-space:9" in result.stderr


def test_status_of_a_store_that_does_not_exist_is_all_zeros(tmp_path) -> None:
    result = CliRunner().invoke(app, ["status", "--home", str(tmp_path / "none"), "--json"])
    status = json.loads(result.stdout)
    assert (status["images"], status["failed"], status["deleted"], status["roots"], status["model"]) == (0, 0, 0, [], None)
    assert status["home"] == str(tmp_path / "none")


def test_status_as_text_names_the_failures(tmp_path) -> None:
    make_tree(tmp_path / "tree")
    index_tree(tmp_path / "tree", tmp_path / "home")
    result = CliRunner().invoke(app, ["status", "--home", str(tmp_path / "home")])
    assert result.exit_code == 0
    assert f"{len(GOOD)} indexed, {len(BAD)} failed" in result.stdout and "empty file (0 bytes)" in result.stdout
