"""The `devsearch` command: a typer app whose commands live in one module each.

Only here is a DevsearchError turned into a one-line message on stderr and its exit code, so the
same happens under typer's test runner and in a real process.
"""
from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup

from core.errors import DevsearchError


class _DevsearchGroup(TyperGroup):
    """Turns the errors users can cause into `devsearch: error: ...` and a non-zero exit."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except DevsearchError as err:
            typer.echo(f"devsearch: error: {err}", err=True)
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("devsearch: interrupted", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    name="devsearch",
    cls=_DevsearchGroup,
    help="Find photos by word or by example, offline, with a DeViSE visual-semantic embedding.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_commands() -> None:
    from cli import index, labels, search_cmds, serve, train, words

    for module in (labels, words, search_cmds, index, train, serve):
        module.register(app)


_register_commands()


# Read-only commands that leave nothing behind once their output is written (no child processes,
# no temporary files, the store closed): their process ends with os._exit, skipping the
# interpreter's teardown of numpy, typer and the rest, about 45 ms of a 0.3 s `devsearch query`.
_NOTHING_TO_TEAR_DOWN = frozenset({"query", "similar", "status"})


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] and sys.argv[1] in _NOTHING_TO_TEAR_DOWN:
        _exit_without_teardown(_exit_code(app))
    app()


def _exit_code(command) -> int:
    """Run a typer app as the console script does and return its exit status instead of exiting."""
    try:
        command()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    return 0


def _exit_without_teardown(code: int) -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to write
        pass
    sys.stderr.flush()
    os._exit(code)
