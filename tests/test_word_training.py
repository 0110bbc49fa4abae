"""DeViSE phase 1 (wordspace/training.py) and `devsearch words train`."""
from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.errors import UsageError
from devsearch.wordspace.sources import open_words
from devsearch.wordspace.training import Corpus, tokenize, train_word2vec

FILLER = "a of to in on with and for at by from is was it this that".split()


def write_corpus(path: Path, sentences: int = 1500, seed: int = 0) -> Path:
    """Two topics that never meet: royalty words co-occur, fruit words co-occur, plus filler."""
    rng = random.Random(seed)
    topics = [["king", "crown", "throne", "royal"], ["apple", "fruit", "orchard", "juice"]]
    lines = []
    for _ in range(sentences):
        topic = rng.choice(topics)
        words = [rng.choice(topic) for _ in range(4)] + rng.sample(FILLER, 3)
        rng.shuffle(words)
        lines.append(" ".join(words).capitalize() + ".")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cosine(space, a: str, b: str) -> float:
    return float(space.vector(a) @ space.vector(b))


def test_tokenize_lowercases_words_and_drops_punctuation():
    assert tokenize("The Dog's bone, 2 cats—and_café!") == ["the", "dog's", "bone", "2", "cats", "and", "café"]


def test_co_occurring_words_end_nearer_than_others(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    out = tmp_path / "vectors.txt"
    summary = train_word2vec([corpus], out, dim=20, window=5, min_count=2, epochs=10, workers=1)
    assert summary.vocab_size == len(set(tokenize(corpus.read_text())))
    assert summary.raw_words > 0 and summary.words_per_s > 0
    space = open_words(str(out), tmp_path / "cache")
    assert cosine(space, "king", "crown") > cosine(space, "king", "fruit")
    assert cosine(space, "apple", "fruit") > cosine(space, "apple", "throne")


def test_phrases_join_frequent_bigrams_into_tokens(tmp_path: Path):
    rng = random.Random(2)
    lines = [" ".join(f"w{rng.randrange(3000)}" for _ in range(6)) + " the golden retriever" * (i % 3 == 0)
             for i in range(2000)]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "vectors.txt"
    summary = train_word2vec([corpus], out, dim=10, min_count=2, epochs=1, phrases=True, workers=1)
    space = open_words(str(out), tmp_path / "cache")
    assert summary.phrase_tokens >= 1
    assert "golden_retriever" in space.words
    assert np.allclose(space.vector("golden retriever"), space.vector("golden_retriever"))


def test_hierarchical_softmax_on_gzipped_corpora_writes_binary(tmp_path: Path):
    plain = write_corpus(tmp_path / "one.txt", sentences=300)
    packed = tmp_path / "two.txt.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write(write_corpus(tmp_path / "src.txt", sentences=300, seed=1).read_text())
    out = tmp_path / "vectors.bin"
    summary = train_word2vec([plain, packed], out, dim=8, min_count=1, epochs=1, hs=True, workers=1)
    assert out.read_bytes().startswith(f"{summary.vocab_size} 8\n".encode())
    assert open_words(str(out), tmp_path / "cache").dims == 8


def test_corpus_splits_very_long_lines(tmp_path: Path):
    path = tmp_path / "oneline.txt"
    path.write_text("word " * 25_000)
    assert [len(s) for s in Corpus([path])] == [10_000, 10_000, 5_000]


def test_missing_corpus_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="not found"):
        train_word2vec([tmp_path / "nope.txt"], tmp_path / "out.txt")


def test_empty_corpus_is_a_usage_error(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_text("... !!! \n\n")
    with pytest.raises(UsageError, match="no words"):
        train_word2vec([empty], tmp_path / "out.txt")


def test_min_count_above_every_word_is_a_usage_error(tmp_path: Path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("one two three\n")
    with pytest.raises(UsageError, match="min_count"):  # its own parameter: the caller words it (the CLI: --min-count)
        train_word2vec([corpus], tmp_path / "out.txt", min_count=5, workers=1)
    assert not (tmp_path / "out.txt").exists()


# -- CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_train_then_similar_reads_the_output(tmp_path: Path, model_cache: Path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    out = tmp_path / "vectors.bin"
    result = runner.invoke(app, ["words", "train", str(corpus), "--out", str(out), "--dim", "16",
                                 "--min-count", "2", "--epochs", "3", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["out"] == str(out) and summary["dims"] == 16 and summary["words_per_s"] > 0
    assert "EPOCH" in result.stderr  # gensim's progress lines, forwarded
    similar = runner.invoke(app, ["words", "similar", "king", "--words", str(out), "--json"])
    assert similar.exit_code == 0, similar.output
    assert len(json.loads(similar.stdout)["neighbours"]) == 10


def test_cli_train_on_an_empty_corpus_exits_with_one_line(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = runner.invoke(app, ["words", "train", str(empty), "--out", str(tmp_path / "v.txt")])
    assert result.exit_code == UsageError.exit_code
    assert result.stderr.startswith("devsearch: error: the corpus has no words")


@pytest.mark.parametrize("options, said", [
    (["--min-count", "5"], "no word occurs --min-count 5 times: lower --min-count"),
    (["--dim", "0"], "--dim must be at least 1, not 0"),
    (["--negative", "0"], "--negative 0 leaves nothing to train: give --negative N or --hs"),
])
def test_cli_names_a_bad_training_value_by_its_option(tmp_path: Path, options, said):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("one two three\n")
    result = runner.invoke(app, ["words", "train", str(corpus), "--out", str(tmp_path / "v.txt"), *options])
    assert result.exit_code == UsageError.exit_code
    assert result.stderr.splitlines()[-1] == f"devsearch: error: {said}"  # after gensim's progress lines


def test_cli_train_prints_a_one_line_summary(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus.txt", sentences=400)
    out = tmp_path / "v.txt"
    result = runner.invoke(app, ["words", "train", str(corpus), "--out", str(out), "--dim", "8", "--min-count", "1",
                                 "--epochs", "1", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("trained ") and result.stdout.rstrip().endswith(f"-> {out}")
    assert result.stdout.count("\n") == 1 and out.is_file()
