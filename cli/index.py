"""`devsearch index PATH...` and `devsearch status`: fill the store, and say what it holds."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from devsearch.cli.options import BACKEND, HOME, PRECISION, model_option
from devsearch.core.settings import DECODERS, Settings


def index(
    paths: list[Path] = typer.Argument(..., help="Folders (or single photos) to index."),
    home: Path = HOME,
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Photos per network batch (default: DEVSEARCH_BATCH_SIZE or 32)."),
    commit_every: int = typer.Option(None, "--commit-every", min=1, metavar="N", help="Commit at most N photos at once (default: 1024) ..."),
    commit_seconds: float = typer.Option(None, "--commit-seconds", min=0, metavar="S", help="... or what is done every S seconds (default: 2)."),
    workers: int = typer.Option(None, "--workers", min=1, help="Decoding processes (default: the usable cores)."),
    backend: str = BACKEND,
    precision: str = PRECISION,
    decoder: str = typer.Option(None, "--decoder", metavar="|".join(DECODERS),
                                help="Where JPEGs are decoded (default: DEVSEARCH_DECODER or cpu; gpu needs torchvision and CUDA)."),
    model: Path = model_option("Model bundle folder (default: the store's, else the built-in one)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Forget everything in the store and index PATH from scratch (e.g. with another model)."),
    follow_symlinks: bool = typer.Option(False, "--follow-symlinks", help="Descend into symbolic links (each folder once)."),
    people: bool = typer.Option(None, "--people/--no-people",
                                help="Run the person and face detectors on each photo (default: on, or DEVSEARCH_PEOPLE=0 for off). "
                                     "Photos indexed without them are decoded again at the next run with them."),
    ray: str = typer.Option(None, "--ray", metavar="ADDRESS",
                            help="Decode and embed on a Ray cluster: local, auto or ray://HOST:PORT "
                                 "(needs the [ray] extra; every node must see PATH at the same path)."),
    watch: bool = typer.Option(False, "--watch", help="Then keep watching PATH: what is added, changed, moved or "
                                                     "deleted is indexed within seconds, until Ctrl-C."),
) -> None:
    """Index photos: new and changed ones are embedded, moved ones keep their vectors, gone ones are deleted."""
    import sys

    from devsearch.indexer.progress import make_progress
    from devsearch.indexer.service import index_session

    settings = Settings().with_options(home=home, batch_size=batch_size, workers=workers, model=model,
                                       commit_every=commit_every, commit_seconds=commit_seconds, backend=backend,
                                       precision=precision, decoder=decoder, people=people)
    with index_session(paths, settings, rebuild=rebuild, follow_symlinks=follow_symlinks, ray=ray) as session:
        _report(session.run(make_progress(sys.stderr)))
        if watch:
            _watch(session, settings)


def _report(summary) -> None:  # type: ignore[no-untyped-def]
    """The run's closing lines on stdout; an interrupted run ends the command with the shell's code."""
    from devsearch.core.safe_text import visible
    from devsearch.indexer.summary import format_summary

    for line in format_summary(summary):
        typer.echo(visible(line))
    if summary.interrupted:
        raise typer.Exit(130)


def _watch(session, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """A pass over the roots for each batch of changes under them, until Ctrl-C or SIGTERM (exit 0: the
    normal end). The handlers are set here, not inherited: a shell may start a process with SIGINT ignored."""
    import signal
    import sys
    import time

    from devsearch.indexer.progress import make_progress
    from devsearch.indexer.watch import changes_under

    folders = "1 folder" if len(session.roots) == 1 else f"{len(session.roots):,} folders"
    typer.echo(f"watching {folders} for changes (Ctrl-C stops)", err=True)
    previous = {number: signal.signal(number, signal.default_int_handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        for changed in changes_under(session.roots, ignored=[settings.home]):
            summary = session.run(make_progress(sys.stderr))
            if summary.changed or summary.interrupted:
                typer.echo(f"[{time.strftime('%H:%M:%S')}] {len(changed):,} changed on disk")
                _report(summary)
    except KeyboardInterrupt:  # between two passes: nothing is half done
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    typer.echo("stopped watching; everything seen so far is indexed", err=True)


def status(
    home: Path = HOME,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with every failed and skipped path and its reason)."),
    failed: bool = typer.Option(False, "--failed", help="List every failed and skipped path with its reason."),
) -> None:
    """What the store holds: photos by status, failures by reason, roots, model, size, last run."""
    from devsearch.store.report import format_status, store_status

    report = store_status(Settings().with_options(home=home).home)
    if as_json:
        typer.echo(json.dumps(report, indent=2))  # names that are not UTF-8 as \udcXX escapes: exact bytes
    elif failed:
        _print_failed(report)
    else:
        typer.echo("\n".join(format_status(report)))


def _print_failed(report: dict) -> None:
    """`status --failed`: a table of every failed and skipped path, names shown literally."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from devsearch.core.safe_text import shown_path, visible

    rows = [("failed", row["error"], row["path"]) for row in report["failed_files"]]
    rows += [("skipped", row["reason"], row["path"]) for row in report["skipped_files"]]
    if not rows:
        typer.echo("nothing failed or was skipped")
        return
    table = Table(title=Text(f"{len(rows):,} files not indexed"), title_justify="left")
    for column in ("", "why", "path"):
        table.add_column(column, overflow="fold")
    for what, why, path in rows:
        table.add_row(what, Text(visible(why or "")), Text(shown_path(path)))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("index")(index)
    app.command("status")(status)
