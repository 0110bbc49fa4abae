"""Reading word vectors into gensim (wordspace/sources.py): every accepted format, sniffed from the file."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from devsearch.core.errors import UsageError
from devsearch.wordspace.sources import BUILTIN, load_keyed_vectors, open_words, sniff_format

WORDS = ["the", "dog", "café", "golden_retriever"]
VECTORS = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [0.0, 3.0, 1.0], [-2.0, 0.5, 0.125]], dtype=np.float32)


def text_rows(trailing: str = "") -> str:
    return "".join(f"{w} " + " ".join(repr(float(x)) for x in v) + trailing + "\n" for w, v in zip(WORDS, VECTORS))


def write_word2vec_text(path: Path) -> Path:
    path.write_text(f"{len(WORDS)} {VECTORS.shape[1]}\n" + text_rows(), encoding="utf-8")
    return path


def write_word2vec_binary(path: Path) -> Path:
    """As the C word2vec tool writes it: header, then `word<space><float32 bytes>\\n` per word."""
    with open(path, "wb") as f:
        f.write(f"{len(WORDS)} {VECTORS.shape[1]}\n".encode())
        for word, vec in zip(WORDS, VECTORS):
            f.write(word.encode("utf-8") + b" " + vec.astype("<f4").tobytes() + b"\n")
    return path


def write_glove(path: Path) -> Path:
    path.write_text(text_rows(), encoding="utf-8")
    return path


def write_fasttext_vec(path: Path) -> Path:
    """fastText .vec: word2vec text with a trailing space on every row."""
    path.write_text(f"{len(WORDS)} {VECTORS.shape[1]}\n" + text_rows(trailing=" "), encoding="utf-8")
    return path


def write_gzipped_glove(path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text_rows())
    return path


FORMATS = {
    "w2v.txt": (write_word2vec_text, (False, True)),
    "w2v.bin": (write_word2vec_binary, (True, True)),
    "glove.txt": (write_glove, (False, False)),
    "wiki.vec": (write_fasttext_vec, (False, True)),
    "glove.txt.gz": (write_gzipped_glove, (False, False)),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_is_sniffed_and_loaded(tmp_path: Path, name: str):
    writer, expected = FORMATS[name]
    path = writer(tmp_path / name)
    assert sniff_format(path) == expected
    kv = load_keyed_vectors(path)
    assert kv.index_to_key == WORDS
    assert np.allclose(kv.vectors, VECTORS)


@pytest.mark.parametrize("name", ["w2v.bin", "glove.txt"])
def test_open_words_on_a_file_matches_its_keyed_vectors(tmp_path: Path, name: str):
    writer, _ = FORMATS[name]
    space = open_words(str(writer(tmp_path / name)), tmp_path / "cache")
    assert space.words == WORDS
    expected = VECTORS[2] / np.linalg.norm(VECTORS[2])
    assert np.allclose(space.vector("Café"), expected, atol=1e-6)


def test_an_unparseable_file_names_the_accepted_formats(tmp_path: Path):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not vectors at all\n\x00\x01")
    with pytest.raises(UsageError, match="GloVe text"):
        load_keyed_vectors(bad)


def test_a_truncated_binary_file_is_a_usage_error(tmp_path: Path):
    path = write_word2vec_binary(tmp_path / "cut.bin")
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(UsageError, match="cannot read"):
        load_keyed_vectors(path)


def test_a_missing_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="not found"):
        load_keyed_vectors(tmp_path / "missing.bin")


def test_the_builtin_as_keyed_vectors_is_the_word_space_queries_use(model_cache: Path):
    """Training and tools (gensim) and the query path (the memory-mapped lookup) see one space."""
    kv = load_keyed_vectors(BUILTIN)
    lookup = open_words(BUILTIN, model_cache)
    assert kv.index_to_key[:1000] == lookup.words[:1000] and len(kv.index_to_key) == len(lookup) == 400_000
    for word in ("dog", "golden", "retriever"):
        assert np.allclose(kv[word] / np.linalg.norm(kv[word]), lookup.vector(word), atol=1e-6)
