"""The `devsearch` command: a typer app whose commands live in one module each.

Only here is a DevsearchError turned into a one-line message on stderr and its exit code, so the
same happens under typer's test runner and in a real process.
"""
from __future__ import annotations

import errno
import gc
import os
import re
import signal
import sys
import warnings

import typer
from typer._click import exceptions as click_errors  # typer's own copy of click
from typer.core import TyperGroup

from devsearch.core.errors import DevsearchError, DiskFullError, InputError
from devsearch.core.safe_text import visible
from devsearch.core.settings import debug_requested

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


# A query term with a leading negative weight, "-1:dog": a word, not an option
_NEGATIVE_TERM = re.compile(r"^-\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*:")
EX_SOFTWARE = 70  # an error of devsearch itself (sysexits.h)


# The commands in the order a person meets them; any other command follows, alphabetically.
_COMMAND_ORDER = ("index", "query", "similar", "labels", "status", "serve", "eval", "train", "words")

# What a value of each type is called in help and usage, where an option or argument names none itself
# (typer's own defaults read "<int range>", "<path>" or "{paths}").
_METAVARS = {"integer": "N", "integer range": "N", "float": "X", "float range": "X", "path": "PATH", "text": "TEXT"}


def _name_values(command) -> None:  # type: ignore[no-untyped-def]
    """Give every parameter of a command that takes a value a plain metavar (N, X, PATH, TEXT, or the
    argument's own name in capitals)."""
    for param in getattr(command, "params", ()):
        if param.metavar is not None or getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.param_type_name == "argument":
            name = (param.name or "value").upper().removesuffix("S") if param.nargs == -1 else (param.name or "value").upper()
            param.metavar = f"{name}..." if param.nargs == -1 else name
        elif not getattr(param.type, "choices", None):
            param.metavar = _METAVARS.get(param.type.name, param.type.name.upper())


_RANGE = re.compile(r"(\S+) is not in the range (?:(?P<low>[-\d.e+]+)<=)?x(?:<=(?P<high>[-\d.e+]+))?(?:>=(?P<min>[-\d.e+]+))?\.")


def _plain_range(message: str) -> str:
    """Click's "0 is not in the range x>=1." in words: "0 is too small: give at least 1."."""
    found = _RANGE.search(message)
    if found is None:
        return message
    low = found["low"] or found["min"]
    if low is not None and found["high"] is not None:
        words = f"{found[1]} is out of range: give {low} to {found['high']}."
    elif low is not None:
        words = f"{found[1]} is too small: give at least {low}."
    else:
        words = f"{found[1]} is too large: give at most {found['high']}."
    return message[:found.start()] + words + message[found.end():]


def option_name(field: str) -> str:
    """The command line's option for an input the layers below call field (`min_count` is `--min-count`,
    `under` is `--in`)."""
    return {"under": "--in"}.get(field, "--" + field.replace("_", "-"))


class _DevsearchGroup(TyperGroup):
    """Every error ends as one line, `devsearch: error: ...`, and a non-zero exit: the errors users
    can cause (DevsearchError), usage errors from option parsing, and as a last resort file-system
    errors and anything unexpected (set DEVSEARCH_DEBUG=1 for the traceback)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[no-untyped-def]
        args = _negative_terms_last(self, list(sys.argv[1:] if args is None else args))
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as err:
            err.show()
            code = err.exit_code
        except click_errors.ClickException as err:
            hint = f" (see `{err.ctx.command_path} --help`)" if getattr(err, "ctx", None) is not None else ""
            typer.echo(f"devsearch: error: {visible(_plain_range(err.format_message()))}{hint}", err=True)
            code = err.exit_code
        except typer.Abort:
            typer.echo("devsearch: error: aborted", err=True)
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def list_commands(self, ctx):  # type: ignore[no-untyped-def]
        names = super().list_commands(ctx)
        rank = {name: place for place, name in enumerate(_COMMAND_ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))

    def get_command(self, ctx, name):  # type: ignore[no-untyped-def]
        command = super().get_command(ctx, name)
        _name_values(command)
        return command

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's and numpy's warnings are not for the user's terminal
                return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort, BrokenPipeError):
            raise
        except DevsearchError as err:
            _fail(err.worded(option_name) if isinstance(err, InputError) else str(err), err.exit_code)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # another Ctrl-C ends the process at once
            typer.echo("devsearch: interrupted", err=True)
            raise typer.Exit(INTERRUPTED) from None
        except OSError as err:  # the file system said no: a name too long, a disk full, a read-only folder
            if debug_requested():
                raise
            if err.errno in (errno.ENOSPC, errno.EDQUOT):  # one message for every out-of-space path
                full = DiskFullError(None if err.filename is None else os.fsdecode(err.filename),
                                     quota=err.errno == errno.EDQUOT)
                _fail(str(full), full.exit_code)
            where = f": {os.fsdecode(err.filename)}" if err.filename is not None else ""
            _fail(f"{err.strerror or err}{where}: {_ADVICE.get(err.errno, _ADVICE[None])}", 1)
        except Exception as err:  # a bug of ours: still one line, and how to see more
            if debug_requested():
                raise
            _fail(f"internal error ({type(err).__name__}: {err}): please report it; DEVSEARCH_DEBUG=1 shows the "
                  "traceback", EX_SOFTWARE)


_ADVICE = {  # what to do when the file system says no, by errno (no space: DiskFullError's message)
    errno.EROFS: "the file system is read-only: give a writable --home (or DEVSEARCH_HOME)",
    errno.EACCES: "check the permissions",
    errno.EPERM: "check the permissions",
    errno.ENAMETOOLONG: "the name is too long for the file system: use a shorter path",
    None: "check the path, the permissions and the free space",
}


def _fail(message: str, code: int) -> None:
    typer.echo(f"devsearch: error: {visible(message)}", err=True)
    raise typer.Exit(code)


def _negative_terms_last(group: TyperGroup, args: list[str]) -> list[str]:
    """`devsearch query "-1:dog + cat"`: move query arguments that start with a negative weight after
    `--`, so click reads them as the TEXT argument and not as an unknown option `-1`."""
    if not args or args[0] != "query":
        return args
    command = group.commands["query"]
    takes_value = {name for param in command.params if param.param_type_name == "option" and not param.is_flag
                   for name in param.opts}
    kept, moved = [args[0]], []
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--":
            kept.append(arg)
            kept.extend(rest)
            break
        if arg in takes_value:
            kept.append(arg)
            value = next(rest, None)
            if value is not None:
                kept.append(value)
        elif _NEGATIVE_TERM.match(arg):
            moved.append(arg)
        else:
            kept.append(arg)
    if not moved:
        return args
    return kept + (moved if "--" in kept else ["--", *moved])


app = typer.Typer(
    name="devsearch",
    cls=_DevsearchGroup,
    help="Find photos by word or by example, offline, with a DeViSE visual-semantic embedding.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help text is plain: "[ray]" or "[0, 1]" stay as written, and it reads at 80 columns
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"devsearch {version('devsearch')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Find photos by word or by example, offline, with a DeViSE visual-semantic embedding."""


def _register_commands() -> None:
    from devsearch.cli import index, labels, search_cmds, serve, train, words

    for module in (labels, words, search_cmds, index, train, serve):
        module.register(app)


_register_commands()


# Read-only commands that leave nothing behind once their output is written (no child processes,
# no temporary files, the store closed): their process ends with os._exit, skipping the
# interpreter's teardown of numpy, typer and the rest, about 45 ms of a 0.3 s `devsearch query`.
_NOTHING_TO_TEAR_DOWN = frozenset({"query", "similar", "status"})


def main() -> None:
    """Console-script entry point. An interrupted command also ends without teardown: the interpreter
    would otherwise wait at exit for threads and worker processes still busy with a slow file."""
    code = _exit_code(app)
    # The interpreter's teardown runs full garbage collections over every object still alive: after
    # TensorFlow was loaded, millions, about 3 s of silence after the last line. Freezing them leaves
    # them to reference counting and the end of the process; atexit handlers and flushing still run.
    gc.freeze()
    if code == INTERRUPTED or (sys.argv[1:2] and sys.argv[1] in _NOTHING_TO_TEAR_DOWN):
        _exit_without_teardown(code)
    sys.exit(code)


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
