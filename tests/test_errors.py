"""Every error a user can cause ends as one line, `devsearch: error: ...`, with a non-zero exit and
nothing on stdout: bad options, bad queries, bad paths, damaged or read-only stores, hostile EXIF."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.errors import ImageError
from devsearch.core.photo import decode_photo, load_thumbnail
from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, EmbeddedPhoto
from devsearch.store.hashing import content_hash
from tests.hostile import bomb, exif_bytes, wrong_type_exif
from tests.indexer_support import photo
from tests.tiny_library import axis

TOO_LONG = "x" * 300


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


def one_line_error(result, *fragments: str, code: int | None = None) -> None:
    """The promise: a non-zero exit, nothing on stdout, one `devsearch: error:` line naming the problem."""
    assert result.exit_code != 0 and result.stdout == "", (result.exit_code, result.stdout, result.stderr)
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("devsearch: error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    if code is not None:
        assert result.exit_code == code


def home(library) -> str:  # noqa: F811
    return str(library["settings"].home)


@pytest.mark.parametrize("args, fragment", [
    (["query", "dog", "-n", "0"], "0 is out of range"),
    (["query", "dog", "-n", "-5"], "-5 is out of range"),
    (["query", "dog", "-n", "abc"], "'abc' is not a valid"),
    (["query", "dog", "--bogus"], "No such option: --bogus"),
    (["query"], "Missing argument 'TEXT'"),
    (["nosuch"], "No such command 'nosuch'"),
    (["index", ".", "--batch-size", "0"], "--batch-size"),
    (["index", ".", "--workers", "0"], "--workers"),
    (["labels", "x.jpg", "-n", "0"], "-n"),
])
def test_every_usage_error_is_one_line_with_exit_2(args, fragment) -> None:
    one_line_error(run(*args), fragment, "--help", code=2)


@pytest.mark.parametrize("variable, value", [("DEVSEARCH_WORKERS", "abc"), ("DEVSEARCH_COMMIT_SECONDS", "abc"),
                                             ("DEVSEARCH_COMMIT_SECONDS", "-1"), ("DEVSEARCH_DECODE_TIMEOUT", "0"),
                                             ("DEVSEARCH_DECODE_TIMEOUT", "nan")])
def test_a_bad_number_in_the_environment_is_one_line(library, variable, value) -> None:  # noqa: F811
    one_line_error(run("index", str(library["root"]), "--home", home(library), env={variable: value}), variable)


def test_a_leading_negative_weight_is_a_term_not_an_option(library) -> None:  # noqa: F811
    result = run("query", "-1:dog", "--all", "--home", home(library), "--paths", "-n", "1")
    assert result.exit_code == 0, result.stderr
    assert Path(result.stdout.strip()).name != "dog.jpg"  # the photo least like a dog comes first
    assert run("query", "--all", "--home", home(library), "--paths", "-0.5:dog + cat", "-n", "1").stdout.strip().endswith("cat.jpg")


def test_a_weight_that_is_not_finite_says_so(library) -> None:  # noqa: F811
    one_line_error(run("query", "1e309:dog", "--home", home(library)), "1e309", "not a finite number", code=2)


def test_a_query_of_stop_words_only_is_an_error(library) -> None:  # noqa: F811
    one_line_error(run("query", "the + of", "--home", home(library)), "only stop words", code=2)


@pytest.mark.parametrize("command", [["query", "dog"], ["status"], ["index", "."]])
def test_home_pointing_at_a_file_is_one_line(library, command) -> None:  # noqa: F811
    one_line_error(run(*command, "--home", str(library["files"]["dog"])), "is a regular file, not a folder")
    one_line_error(run(*command, "--home", str(library["files"]["dog"] / "sub")), "lies under a file")


def test_html_to_a_folder_or_under_a_file_is_one_line(library, tmp_path) -> None:  # noqa: F811
    one_line_error(run("query", "dog", "--home", home(library), "--html", str(tmp_path)), "is a folder")
    one_line_error(run("query", "dog", "--home", home(library), "--html", str(library["files"]["dog"] / "x.html")),
                   "is a file, not a folder")


@pytest.mark.parametrize("command", [
    lambda lib, long: ["similar", f"/tmp/{long}.jpg", "--home", home(lib)],
    lambda lib, long: ["query", f"dog + /tmp/{long}.jpg", "--home", home(lib)],
    lambda lib, long: ["query", "dog", "--home", home(lib), "--html", f"/tmp/{long}.html"],
    lambda lib, long: ["query", "dog", "--home", home(lib), "--in", f"/tmp/{long}"],
    lambda lib, long: ["query", "dog", "--home", f"/tmp/{long}"],
    lambda lib, long: ["status", "--home", f"/tmp/{long}"],
    lambda lib, long: ["index", f"/tmp/{long}", "--home", home(lib)],
])
def test_a_name_too_long_for_the_file_system_is_one_line(library, command) -> None:  # noqa: F811
    one_line_error(run(*command(library, TOO_LONG)), "too long")


@pytest.mark.parametrize("garbage", ["{}", "[1, 2]", "null", "not json", '{"fingerprint": 3, "dims": "x"}'])
@pytest.mark.parametrize("command", [["query", "dog"], ["status"]])
def test_a_damaged_model_json_is_one_line(library, garbage, command) -> None:  # noqa: F811
    (library["settings"].home / "model.json").write_text(garbage)
    one_line_error(run(*command, "--home", home(library)), "model.json", "--rebuild")


@pytest.mark.parametrize("command", [["query", "dog"], ["status"], ["similar", "x.jpg"]])
def test_random_bytes_for_a_catalog_say_it_is_damaged_and_how_to_recover(library, command) -> None:  # noqa: F811
    catalog = library["settings"].home / "catalog.sqlite"
    catalog.write_bytes(os.urandom(8192))
    args = [*command, "--home", home(library)]
    if command[0] == "similar":
        args[1] = str(library["files"]["dog"])
    one_line_error(run(*args), "is damaged", "--rebuild", "backup")


def test_rebuild_sets_a_damaged_catalog_aside_and_starts_over(library) -> None:  # noqa: F811
    catalog = library["settings"].home / "catalog.sqlite"
    catalog.write_bytes(os.urandom(8192))
    with Store.open(library["settings"].home, writer=True, set_aside_damaged=True) as store:
        assert store.count() == 0
    assert (library["settings"].home / "catalog.sqlite.damaged").stat().st_size == 8192


@pytest.fixture
def read_only(tmp_path: Path):
    """A folder made read-only for this process: a read-only tmpfs as root, else its mode bits."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        yield folder, lambda: subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        subprocess.run(["umount", "--lazy", str(folder)], check=False)  # mapped store files may still be open
    else:
        yield folder, lambda: [os.chmod(p, 0o555 if p.is_dir() else 0o444) for p in [*folder.rglob("*"), folder]]
        for p in [folder, *folder.rglob("*")]:
            os.chmod(p, 0o755)


def test_a_read_only_store_answers_queries_and_refuses_to_index_without_try_again(library, read_only) -> None:  # noqa: F811
    folder, seal = read_only
    shutil.copytree(library["settings"].home, folder / "home")
    seal()
    answered = run("query", "dog", "--all", "--home", str(folder / "home"), "--paths", "-n", "1")
    assert answered.exit_code == 0 and answered.stdout.strip().endswith("dog.jpg"), answered.stderr
    refused = run("index", str(library["root"]), "--home", str(folder / "home"))
    one_line_error(refused, "read-only")
    assert "try again" not in refused.stderr


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB file system of its own (a tmpfs, as root only): its folder."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", "--lazy", str(folder)], check=False)  # mapped store files may still be open


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_a_full_disk_is_one_line_that_says_to_free_space_and_loses_nothing(library, small_disk) -> None:  # noqa: F811
    store = small_disk / "home"
    shutil.copytree(library["settings"].home, store)
    before = run("query", "dog", "--all", "--home", str(store), "--paths", "-n", "6").stdout
    filler = fill(small_disk)
    one_line_error(run("index", str(library["root"]), "--home", str(store)), "free some space")
    answered = run("query", "dog", "--all", "--home", str(store), "--paths", "-n", "6")
    assert answered.stdout == before, answered.stderr  # still answers
    filler.unlink()
    Store.open(store, writer=True).close()  # the failed run left no lock behind
    answered = run("query", "dog", "--all", "--home", str(store), "--paths", "-n", "6")
    assert answered.stdout == before, answered.stderr


def test_a_link_loop_is_an_unreadable_file_not_a_corrupt_image(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").symlink_to(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").symlink_to(tmp_path / "a.jpg")
    with pytest.raises(ImageError, match="^unreadable: Too many levels of symbolic links$"):
        decode_photo(tmp_path / "a.jpg")


def test_a_photo_whose_exif_has_the_wrong_types_is_decoded_upright(tmp_path: Path) -> None:
    path = wrong_type_exif(tmp_path / "exif.jpg")
    decoded = decode_photo(path)
    assert (decoded.width, decoded.height) == (64, 96)  # orientation 6 applied to a 96x64 image
    assert load_thumbnail(path, 12).size == (8, 12)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, as it opens the file
def test_a_decompression_bomb_gets_no_thumbnail_as_it_gets_no_vector(tmp_path: Path) -> None:
    path = bomb(tmp_path / "bomb.png")  # a tiny file that declares 120 megapixels
    with pytest.raises(ImageError, match="^too large"):
        decode_photo(path)
    assert load_thumbnail(path, 12) is None


def test_pillow_warnings_never_reach_the_terminal(library, tmp_path: Path) -> None:  # noqa: F811
    """An indexed photo with damaged EXIF (Pillow warns 'Truncated File Read') drawn as a thumbnail."""
    path = library["root"] / "warns.jpg"
    photo(3).save(path, exif=exif_bytes([(0x0112, 5, 1, b"\x00\x00\xff\xff")]))
    stat = path.stat()
    with Store.open(library["settings"].home, writer=True) as store:
        store.commit(ChangeSet(embedded=[EmbeddedPhoto(str(path), stat.st_size, stat.st_mtime, content_hash(path),
                                                       96, 64, None, axis(1, 0, 0, 0))]))
    result = run("query", "dog", "--all", "--home", home(library), "--thumbnails", "-n", "2")
    assert result.exit_code == 0 and result.stderr == ""





def index_on_a_full_disk(library, small_disk, debug: str):  # noqa: F811
    """An OSError no command words itself (ENOSPC): the last-resort funnel of cli/app.py words it."""
    store = small_disk / "home"
    shutil.copytree(library["settings"].home, store)
    fill(small_disk)
    return run("index", str(library["root"]), "--home", str(store), env={"DEVSEARCH_DEBUG": debug})


@pytest.mark.parametrize("debug", ["", "0"])
def test_devsearch_debug_empty_or_0_is_off_a_file_system_error_stays_one_line(library, small_disk, debug) -> None:  # noqa: F811
    one_line_error(index_on_a_full_disk(library, small_disk, debug), "free some space")


def test_devsearch_debug_on_lets_a_file_system_error_through_with_its_traceback(library, small_disk) -> None:  # noqa: F811
    result = index_on_a_full_disk(library, small_disk, "1")
    assert isinstance(result.exception, OSError), result.stderr
def test_a_query_during_a_rebuild_before_its_first_commit_says_a_rebuild_is_running(library) -> None:  # noqa: F811
    with Store.open(library["settings"].home, writer=True) as store:
        store.reset()  # what `index --rebuild` does first; this process is the running writer
        one_line_error(run("query", "dog", "--home", home(library)), "rebuilding", f"pid {os.getpid()}", "try again",
                       code=7)
        assert "run `devsearch index" not in run("query", "dog", "--home", home(library)).stderr


def test_an_interrupted_rebuild_that_committed_nothing_says_to_run_index(library) -> None:  # noqa: F811
    with Store.open(library["settings"].home, writer=True) as store:
        store.reset()
    one_line_error(run("query", "dog", "--home", home(library)), "no photos indexed", "devsearch index", code=7)


@pytest.mark.parametrize("field, value", [("fingerprint", "test+conse+tiny:ffffffffffffffff"), ("dims", 3)])
def test_a_model_json_that_no_longer_matches_the_catalog_is_one_line(library, field, value) -> None:  # noqa: F811
    """model.json names the word space and ranking a query uses: one edited to name another model (or
    other dimensions) than the catalog's vectors were made with must not answer with another ranking."""
    import json

    path = library["settings"].home / "model.json"
    manifest = json.loads(path.read_text())
    manifest[field] = value
    path.write_text(json.dumps(manifest))
    for command in (["query", "dog"], ["index", str(library["root"])]):
        one_line_error(run(*command, "--home", home(library)), "model.json", "--rebuild", code=7)


def test_a_store_bound_to_a_new_model_before_its_first_commit_still_answers(library, tmp_path) -> None:  # noqa: F811
    """A store moving to another model (model.json rebound, no photo embedded by it yet) is no mismatch."""
    from tests.tiny_library import make_bundle

    with Store.open(library["settings"].home, writer=True) as store:
        store.bind_model(make_bundle(tmp_path / "next", "test+conse+tiny:00000000000000ff"))
    assert run("query", "dog", "--home", home(library), "--paths").exit_code == 0


def test_every_out_of_space_path_of_index_is_the_one_disk_full_line(tmp_path, small_disk) -> None:
    """With less and less space left, index fails in a different place each time (the lock file, the
    catalog's commit, each derived file and its sidecar, their temp files): always the same line and
    exit status, no temp file left behind, and once there is room the run completes as if nothing happened."""
    from tests.indexer_support import index_tree, photo_folder

    tree = photo_folder(tmp_path / "tree", 12)
    index_tree(tree, tmp_path / "pristine")
    gone, kept = tree / "03.jpg", (tree / "03.jpg").read_bytes()
    times = (gone.stat().st_atime, gone.stat().st_mtime)
    failures = []
    for left in range(0, 512 * 1024, 4096):
        store = small_disk / "home"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(tmp_path / "pristine", store)
        for path in store.iterdir():
            if path.name.startswith(("flat", "hnsw", "postings")):
                path.unlink()  # so that index saves them all again
        gone.unlink()  # so that index commits
        usage = os.statvfs(small_disk)
        (small_disk / "filler").write_bytes(bytes(max(0, usage.f_bavail * usage.f_frsize - left)))
        result = run("index", str(tree), "--home", str(store), "--no-people")
        (small_disk / "filler").unlink()
        gone.write_bytes(kept)
        os.utime(gone, times)
        assert not [p.name for p in store.iterdir() if p.name.startswith(".")], left
        if result.exit_code == 0:
            break
        one_line_error(result, "is full: free some space, then run again", code=1)
        failures.append(result.stderr)
    assert result.exit_code == 0, "never had room enough"
    named = {f.split("the disk holding ")[1].split(" is full")[0].rsplit("/", 1)[-1].split("-")[0] for f in failures}
    assert len(named) >= 2, failures  # the lock, the catalog, the derived files: which fail depends on the run
    with Store.open(store) as opened:
        assert opened.count() == 11 and opened.count("deleted") == 1
        hits = opened.knn(np.ones(13, np.float32), 20, exact=True)
        assert sorted(photo_id for photo_id, _ in hits) == sorted(opened.ids_matching().tolist())
