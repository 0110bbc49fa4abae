"""The `devsearch` command: a typer app whose commands live in one module each.

Only here is a DevsearchError turned into a one-line message on stderr and its exit code, so the
same happens under typer's test runner and in a real process.
"""
from __future__ import annotations

import os

# TensorFlow's C++ start-up chatter would come before our one-line errors; warnings and errors stay.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from core.errors import DevsearchError  # noqa: E402


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
    from cli import index, labels, search_cmds, train, words

    for module in (labels, words, search_cmds, index, train):
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
