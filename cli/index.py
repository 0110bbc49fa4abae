"""`devsearch index PATH...` and `devsearch status`: fill the store, and say what it holds."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.options import HOME
from core.settings import Settings


def index(
    paths: list[Path] = typer.Argument(..., help="Folders (or single photos) to index."),
    home: Path = HOME,
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Photos per network batch and per commit."),
    workers: int = typer.Option(None, "--workers", min=1, help="Decoding processes (default: all cores)."),
    model: Path = typer.Option(None, "--model", help="Model bundle folder (default: the store's, else the built-in one)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Forget everything in the store and index PATH from scratch (e.g. with another model)."),
    follow_symlinks: bool = typer.Option(False, "--follow-symlinks", help="Descend into symbolic links (each folder once)."),
    ray: str = typer.Option(None, "--ray", metavar="ADDRESS",
                            help="Decode and embed on a Ray cluster: local, auto or ray://HOST:PORT "
                                 "(needs the [ray] extra; every node must see PATH at the same path)."),
) -> None:
    """Index photos: new and changed ones are embedded, moved ones keep their vectors, gone ones are deleted."""
    import sys

    from indexer.progress import make_progress
    from indexer.service import index_paths
    from indexer.summary import format_summary

    settings = Settings().with_options(home=home, batch_size=batch_size, workers=workers, model=model)
    summary = index_paths(paths, settings, rebuild=rebuild, follow_symlinks=follow_symlinks,
                          progress=make_progress(sys.stderr), ray=ray)
    for line in format_summary(summary):
        typer.echo(line)
    if summary.interrupted:
        raise typer.Exit(130)


def status(
    home: Path = HOME,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What the store holds: photos by status, failures by reason, roots, model, size, last run."""
    from store.report import store_status

    report = store_status(Settings().with_options(home=home).home)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    failures = ", ".join(f"{n:,} {reason}" for reason, n in report["failures"].items())
    lines = [
        f"home      {report['home']}",
        f"photos    {report['images']:,} indexed, {report['failed']:,} failed, {report['deleted']:,} deleted",
        *([f"failures  {failures}"] if failures else []),
        f"roots     {', '.join(report['roots']) or '(none)'}",
        f"model     {report['model'] or '(none yet)'}",
        f"size      {report['store_bytes'] / 1e6:.1f} MB",
    ]
    run = report["last_run"]
    if run:
        lines.append(f"last run  {run['finished_at']} {run['outcome']}: {run['new']:,} new, {run['updated']:,} updated, "
                     f"{run['moved']:,} moved, {run['deleted']:,} deleted, {run['failed']:,} failed")
    typer.echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("index")(index)
    app.command("status")(status)
