"""What `--help`, `-h`, `--version` and option errors print: plain words a person reads at 80 columns, the
commands in the order they are used, no markup eaten and no internal type names."""
from __future__ import annotations

import io
import re

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.indexer.progress import PlainProgress

COMMANDS = ["index", "query", "similar", "labels", "status", "serve", "eval", "train", "words"]


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})


def help_of(command: str) -> str:
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_commands_are_listed_in_the_order_a_person_uses_them() -> None:
    listing = run("--help").stdout.split("Commands:")[1]
    shown = re.findall(r"^  (\w+)", listing, flags=re.MULTILINE)
    assert shown == COMMANDS


def test_dash_h_is_help() -> None:
    assert run("-h").stdout == run("--help").stdout
    assert run("index", "-h").stdout == help_of("index")


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"devsearch {version('devsearch')}"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_no_internal_types(command: str) -> None:
    text = help_of(command)
    assert not re.search(r"<[a-z ]+>", text), text
    assert "{paths}" not in text


def test_square_brackets_in_help_are_kept() -> None:
    assert "[ray]" in help_of("index").replace("\n", " ")


@pytest.mark.parametrize("args, words", [
    (["index", "--batch-size", "0", "x"], "0 is too small: give at least 1"),
    (["serve", "--port", "70000"], "70000 is out of range: give 0 to 65535"),
])
def test_a_value_out_of_range_is_said_in_words(args: list[str], words: str) -> None:
    result = run(*args)
    assert result.exit_code == 2 and words in result.stderr and "x>=" not in result.stderr


def test_a_reversed_date_range_says_which_date_is_which(tmp_path) -> None:
    result = run("query", "dog", "--home", str(tmp_path), "--after", "2023-02-01", "--before", "2023-01-02")
    assert result.exit_code != 0
    assert "start date 2023-02-01 (--after) is not before the end date 2023-01-02 (--before)" in result.stderr
    assert "before before" not in result.stderr


def test_piped_progress_does_not_repeat_its_last_line() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream, every=0.0)
    progress.start(3)
    progress.advance(3)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "indexing 3 files" and len(lines) == 2 and lines[1].startswith("3/3 files")
