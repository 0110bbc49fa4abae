"""`devsearch words train|similar|analogy`: train phase-1 word vectors and look around a word space.

similar/analogy read the memory-mapped word cache (no gensim); train imports gensim when it runs.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from devsearch.cli.options import WORDS

words_app = typer.Typer(help="Word vectors: train them (DeViSE phase 1) and explore them.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(words_app, name="words")


def _lookup(source: str):
    from devsearch.core.settings import Settings
    from devsearch.wordspace.sources import open_words

    return open_words(source, Settings().cache)


def _render(title: str, neighbours: list[tuple[str, float]], as_json: bool, query: dict) -> None:
    from devsearch.wordspace.render import neighbours_json, print_neighbours

    if as_json:
        typer.echo(neighbours_json(query, neighbours))
    else:
        print_neighbours(title, neighbours)


@words_app.command()
def similar(
    word: str = typer.Argument(..., help="a word or a quoted phrase"),
    n: int = typer.Option(10, "-n", help="how many neighbours"),
    words: str = WORDS,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The words nearest to WORD."""
    neighbours = _lookup(words).similar(word, n)
    _render(f"nearest to {word!r}", neighbours, as_json, {"word": word})


@words_app.command()
def analogy(
    a: str = typer.Argument(...), b: str = typer.Argument(...), c: str = typer.Argument(...),
    n: int = typer.Option(5, "-n", help="how many answers"),
    words: str = WORDS,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """A is to B as C is to ? (nearest to B - A + C, the inputs excluded)."""
    answers = _lookup(words).analogy(a, b, c, n)
    _render(f"{a} : {b} :: {c} : ?", answers, as_json, {"a": a, "b": b, "c": c})


@words_app.command()
def train(
    corpus: List[Path] = typer.Argument(..., help="plain-text files (.gz too)"),
    out: Path = typer.Option(..., "--out", help="output vectors: word2vec binary if it ends in .bin, else text"),
    dim: int = typer.Option(300, "--dim"),
    window: int = typer.Option(10, "--window"),
    min_count: int = typer.Option(5, "--min-count"),
    epochs: int = typer.Option(5, "--epochs"),
    hs: bool = typer.Option(False, "--hs", help="hierarchical softmax instead of negative sampling"),
    negative: int = typer.Option(5, "--negative", help="negative samples per word"),
    phrases: bool = typer.Option(False, "--phrases", help="join frequent bigrams (golden_retriever)"),
    workers: Optional[int] = typer.Option(None, "--workers", help="training threads"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Train skip-gram word vectors on CORPUS files (DeViSE phase 1)."""
    from devsearch.core.settings import Settings
    from devsearch.wordspace.training import train_word2vec

    summary = train_word2vec(
        corpus, out, dim=dim, window=window, min_count=min_count, epochs=epochs, hs=hs,
        negative=negative, phrases=phrases, workers=workers or Settings().workers,
        log=lambda line: typer.echo(line, err=True),
    )
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
        return
    typer.echo(
        f"trained {summary.vocab_size:,} words x {summary.dims} dims on {summary.raw_words:,} corpus words "
        f"in {summary.elapsed_s:.1f}s ({summary.words_per_s:,.0f} words/s)"
        + (f", {summary.phrase_tokens:,} phrases" if phrases else "")
        + f" -> {summary.out}"
    )
