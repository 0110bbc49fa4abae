"""DeViSE phase 1: skip-gram word vectors trained with gensim on plain-text corpora.

The corpus is streamed (never held in memory) so a multi-gigabyte dump trains the same way as a
test file; the result is written in word2vec format, which `--words FILE` reads everywhere else.
gensim is imported inside the functions: this module is reachable from the CLI's import graph.
"""
from __future__ import annotations

import gzip
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from devsearch.core.errors import InputError, UsageError
from devsearch.core.files import write_atomically

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_MAX_SENTENCE = 10_000  # gensim drops tokens beyond this per sentence; longer lines are split


@dataclass(frozen=True)
class TrainingSummary:
    """What a training run did, for the CLI's summary line and --json."""

    out: str
    vocab_size: int
    dims: int
    raw_words: int          # corpus words read, all epochs
    effective_words: int    # words trained on after min-count and down-sampling
    words_per_s: float      # raw words per second of training
    elapsed_s: float
    phrase_tokens: int      # vocabulary entries made by --phrases (e.g. golden_retriever)

    def as_dict(self) -> dict:
        return asdict(self)


def tokenize(line: str) -> list[str]:
    """Lowercase words (letters and digits, inner apostrophes kept)."""
    return _TOKEN.findall(line.lower())


class Corpus:
    """Re-iterable stream of tokenised sentences from text files (.gz read transparently)."""

    def __init__(self, paths: Sequence[Path]):
        if not paths:
            raise UsageError("no corpus given: pass one or more text files")
        missing = [str(p) for p in paths if not Path(p).is_file()]
        if missing:
            raise UsageError(f"corpus file not found: {', '.join(missing)}")
        self.paths = [Path(p) for p in paths]

    def __iter__(self) -> Iterator[list[str]]:
        for path in self.paths:
            opener = gzip.open if path.name.endswith(".gz") else open
            try:
                with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
                    for line in handle:
                        tokens = tokenize(line)
                        for start in range(0, len(tokens), _MAX_SENTENCE):
                            yield tokens[start: start + _MAX_SENTENCE]
            except (OSError, EOFError) as err:
                raise UsageError(f"cannot read corpus file {path}: {err}") from None


class _Phrased:
    """A corpus with frequent bigrams joined into one token by a frozen gensim Phrases model."""

    def __init__(self, corpus: Corpus, phraser):
        self.corpus, self.phraser = corpus, phraser

    def __iter__(self) -> Iterator[list[str]]:
        for sentence in self.corpus:
            yield self.phraser[sentence]


class _ProgressLog(logging.Handler):
    """Forwards gensim's progress lines (words/s, % done, epoch totals) to a callback."""

    def __init__(self, log: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "PROGRESS" in message or message.startswith("EPOCH") or "collected" in message:
            self.log(message)


def train_word2vec(
    corpora: Sequence[Path],
    out: Path,
    *,
    dim: int = 300,
    window: int = 10,
    min_count: int = 5,
    epochs: int = 5,
    hs: bool = False,
    negative: int = 5,
    phrases: bool = False,
    workers: int | None = None,
    seed: int = 1,
    log: Callable[[str], None] | None = None,
) -> TrainingSummary:
    """Train skip-gram vectors on the corpora and write them to `out` (binary if it ends in .bin)."""
    for field, value, low in (("dim", dim, 1), ("window", window, 1), ("min_count", min_count, 1),
                              ("epochs", epochs, 1), ("negative", negative, 0)):
        if value < low:
            raise InputError(lambda name, field=field, value=value, low=low:
                             f"{name(field)} must be at least {low}, not {value}")
    if not hs and negative == 0:
        raise InputError(lambda name: f"{name('negative')} 0 leaves nothing to train: give {name('negative')} N "
                                      f"or {name('hs')}")
    corpus = Corpus(corpora)
    if not any(sentence for sentence in corpus):
        raise UsageError(f"the corpus has no words: {', '.join(str(p) for p in corpus.paths)}")

    from gensim.models import Word2Vec
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    handler = _ProgressLog(log) if log else None
    loggers = [logging.getLogger(n) for n in ("gensim.models.word2vec", "gensim.models.phrases")]
    saved = [lg.level for lg in loggers]
    if handler:
        for lg in loggers:
            lg.addHandler(handler)
            lg.setLevel(logging.INFO)
    try:
        sentences = corpus
        if phrases:
            found = Phrases(corpus, min_count=min_count, connector_words=ENGLISH_CONNECTOR_WORDS)
            sentences = _Phrased(corpus, found.freeze())
        model = Word2Vec(
            sg=1, vector_size=dim, window=window, min_count=min_count, hs=1 if hs else 0,
            negative=0 if hs else negative, workers=workers or os.cpu_count() or 1, seed=seed,
        )
        model.build_vocab(sentences)
        if len(model.wv) == 0:
            raise InputError(lambda name: f"no word occurs {name('min_count')} {min_count} times: "
                                          f"lower {name('min_count')}")
        started = time.perf_counter()
        effective, raw = model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
        elapsed = time.perf_counter() - started
    finally:
        if handler:
            for lg, level in zip(loggers, saved):
                lg.removeHandler(handler)
                lg.setLevel(level)

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda tmp: model.wv.save_word2vec_format(tmp, binary=out.name.endswith(".bin")),
                     mode=0o644)
    return TrainingSummary(
        out=str(out), vocab_size=len(model.wv), dims=dim, raw_words=int(raw),
        effective_words=int(effective), words_per_s=raw / elapsed if elapsed > 0 else 0.0,
        elapsed_s=elapsed, phrase_tokens=sum(1 for w in model.wv.index_to_key if "_" in w),
    )
