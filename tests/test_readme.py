"""The README's command table matches the app: every command and option documented, none invented.

The commands and options are read from the typer app, so a new command or option fails this test
until its row in the table says how to use it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from devsearch.cli.app import app

README = Path(__file__).resolve().parent.parent / "README.md"
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def app_commands() -> dict[str, list[set[str]]]:
    """'words similar' -> its options, each as the set of its names (aliases and --no- form)."""
    found = {}

    def walk(command, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = [{*p.opts, *p.secondary_opts} for p in command.params
                                     if p.param_type_name == "option"]

    walk(typer.main.get_command(app), ())
    return found


def readme_rows(commands: set[str]) -> dict[str, set[str]]:
    """The table under README's "## Commands": the command of each row -> the options its usage shows."""
    section = README.read_text(encoding="utf-8").split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for usage in re.findall(r"^\| `devsearch ([^`]*)`", section, flags=re.MULTILINE):
        words = usage.split()
        name = max((" ".join(words[:n]) for n in range(1, len(words) + 1)), key=lambda c: (c in commands, len(c)))
        rows[name if name in commands else words[0]] = set(OPTION.findall(usage))
    return rows


COMMANDS = app_commands()
ROWS = readme_rows(set(COMMANDS))


def test_every_command_has_a_row_and_every_row_is_a_command():
    assert sorted(ROWS) == sorted(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_a_command_is_in_its_row(command):
    missing = [sorted(names)[-1] for names in COMMANDS[command] if not names & ROWS.get(command, set())]
    assert missing == [], f"README's row for `devsearch {command}` lacks {missing}"


@pytest.mark.parametrize("command", sorted(ROWS))
def test_every_option_in_a_row_exists(command):
    known = set().union(*COMMANDS.get(command, []))
    assert sorted(ROWS[command] - known) == [], f"README's row for `devsearch {command}` shows options the app lacks"


def test_ci_runs_exactly_the_readmes_test_command_in_a_fresh_environment():
    """A new user runs the README's command; CI must run that very line, inside a venv it made."""
    readme = README.read_text(encoding="utf-8")
    command = re.search(r"\*\*Run the tests\*\*.*?```sh\n(.+?)\n```", readme, flags=re.DOTALL)[1]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines()
    assert ci.index("python3 -m venv") < ci.index(command)
