"""Word vectors as gensim KeyedVectors, from the builtin GloVe or any common vector file.

Training and tools want gensim; the query path does not (see devise/word_lookup.py, which calls
this module only to convert a file into its cache). The file format is sniffed from the first
bytes, so users need not say which of the formats they have.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from core.errors import UsageError
from devise.word_lookup import ACCEPTED, BUILTIN, builtin_glove

_HEADER = re.compile(rb"^\s*(\d+)\s+(\d+)\s*$")
_SNIFF_BYTES = 1 << 16


def load_keyed_vectors(source: str | Path):
    """gensim KeyedVectors of the builtin ("glove-6b-50d") or of a word2vec/GloVe/fastText file."""
    from gensim.models import KeyedVectors

    if str(source) == BUILTIN:
        words, vectors = builtin_glove()
        kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
        kv.vectors = np.array(vectors, dtype=np.float32)  # direct: add_vectors takes seconds for 400k
        kv.index_to_key = list(words)
        kv.key_to_index = {word: row for row, word in enumerate(kv.index_to_key)}
        return kv
    path = Path(source).expanduser()
    if not path.is_file():
        raise UsageError(f"word vectors file {str(source)!r} not found (accepted: {ACCEPTED})")
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
