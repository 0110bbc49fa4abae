"""Word vectors for the query path: a memory-mapped cache that opens in milliseconds, numpy only.

`devsearch query dog` needs one word vector, not a word-vector library: importing gensim costs
0.8 s and unpickling a 400k-word vocabulary more. So a vector source is converted once into a
cache folder that is opened with `np.load(mmap_mode="r")` and plain file mmaps:

    vectors.npy       float32 (count, dims), unit rows, in the source's (frequency) order
    words.utf8        the words in the same order, UTF-8, each followed by a newline
    word_offsets.npy  int64 (count + 1): word i is words.utf8[offsets[i]:offsets[i+1] - 1]
    sorted_rows.npy   int32 (count): rows ordered by their UTF-8 bytes, for binary search
    meta.json         layout, dims, count, fingerprint (sha256 over words and vectors), source

Nothing here is unpickled and no per-word Python object is created when opening. gensim (for
vector files) and pyarrow (for the builtin's vocabulary) are imported only when a cache is built
(wordspace/sources.py, which owns where vectors come from and imports this module, never the reverse).
"""
from __future__ import annotations

import bisect
import difflib
import hashlib
import json
import mmap
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from devsearch.core.errors import AssetMissingError, UnknownWordError, UsageError
from devsearch.core.vectors import top_k, unit_rows
from devsearch.wordspace.plain_words import plain_text

LAYOUT = 1
_CHUNK_ROWS = 65536
_FREQUENT = 10_000          # the most frequent words are always spelling candidates
_PREFIX_RANGE_MAX = 20_000  # a 2-letter prefix range larger than this narrows to 3 letters
_SORT_ARRAY_BYTES = 256 << 20


class _SortedWords:
    """The vocabulary in byte order, as a sequence `bisect` can search without building a list."""

    def __init__(self, lookup: "WordLookup"):
        self._lookup = lookup

    def __len__(self) -> int:
        return len(self._lookup)

    def __getitem__(self, i: int) -> bytes:
        return self._lookup._word_bytes(int(self._lookup._sorted_rows[i]))


class WordLookup:
    """A read-only word space: word -> unit vector, vector -> nearest words."""

    def __init__(self, folder: Path, meta: dict, matrix: np.ndarray, blob: mmap.mmap,
                 offsets: np.ndarray, sorted_rows: np.ndarray):
        self.folder = folder
        self.meta = meta
        self.dims: int = int(meta["dims"])
        self.fingerprint: str = str(meta["fingerprint"])
        self.source: str = str(meta.get("source", ""))
        self.matrix = matrix
        self._blob = blob
        self._offsets = offsets
        self._sorted_rows = sorted_rows
        self._sorted = _SortedWords(self)
        self._words: list[str] | None = None
        self._frequent: list[str] | None = None
        self._longest: int | None = None

    @classmethod
    def open(cls, folder: Path) -> "WordLookup":
        """Open a cache written by `build_lookup`; memory maps only, so it takes milliseconds."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("layout") != LAYOUT:
                raise ValueError(f"layout {meta.get('layout')!r}, expected {LAYOUT}")
            count, dims = int(meta["count"]), int(meta["dims"])
            matrix = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
            offsets = np.load(folder / "word_offsets.npy", mmap_mode="r", allow_pickle=False)
            sorted_rows = np.load(folder / "sorted_rows.npy", mmap_mode="r", allow_pickle=False)
            with open(folder / "words.utf8", "rb") as handle:
                blob = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            if (matrix.shape != (count, dims) or matrix.dtype != np.float32
                    or offsets.shape != (count + 1,) or sorted_rows.shape != (count,)
                    or int(offsets[-1]) != len(blob)):
                raise ValueError("array shapes do not match meta.json")
        except (OSError, ValueError, KeyError) as err:
            raise AssetMissingError(
                f"word vectors cache {folder} is missing or damaged ({err}): delete it and run again"
            ) from None
        # plain ndarray views of the maps: scalar indexing is 2x faster than through np.memmap
        return cls(folder, meta, matrix, blob, np.asarray(offsets), np.asarray(sorted_rows))

    def __len__(self) -> int:
        return int(self._sorted_rows.shape[0])

    @property
    def words(self) -> list[str]:
        """All words in the source's order (decoded on first use, ~30 ms for 400k words)."""
        if self._words is None:
            self._words = self._blob[:].decode("utf-8").split("\n")[:-1]
        return self._words

    def vector(self, text: str) -> np.ndarray:
        """Unit float32 vector of a word or phrase; UnknownWordError with close spellings if none."""
        rows = self._rows(text)
        return self._combine(rows)

    def has(self, text: str) -> bool:
        """Whether `vector(text)` would succeed."""
        try:
            self._rows(text)
        except (UnknownWordError, UsageError):
            return False
        return True

    def is_one_token(self, text: str) -> bool:
        """Whether text is one entry of the vocabulary (a word, or a phrase stored as one token)."""
        try:
            return len(self._rows(text)) == 1
        except (UnknownWordError, UsageError):
            return False

    def nearest(self, vec: np.ndarray, n: int = 10, restrict: int | None = None,
                *, exclude: Iterable[int] = ()) -> list[tuple[str, float]]:
        """The n words of highest cosine similarity to vec, best first.

        restrict: only the first `restrict` words (the most frequent, in the source's order).
        exclude: rows never returned (the inputs of `similar` and `analogy`).
        """
        vec = np.asarray(vec, dtype=np.float32).reshape(-1)
        if vec.shape != (self.dims,):
            raise ValueError(f"vector has {vec.shape[0]} dimensions, the word space {self.dims}")
        matrix = self.matrix if restrict is None else self.matrix[: max(int(restrict), 0)]
        scores = matrix @ unit_rows(vec)
        for row in exclude:
            if row < scores.shape[0]:
                scores[row] = -np.inf
        return [(self._word(int(i)), float(scores[i])) for i in top_k(scores, n) if np.isfinite(scores[i])]

    def similar(self, text: str, n: int = 10) -> list[tuple[str, float]]:
        """Nearest words to a word or phrase, without the words it was made of."""
        rows = self._rows(text)
        return self.nearest(self._combine(rows), n, exclude=rows)

    def analogy(self, a: str, b: str, c: str, n: int = 5) -> list[tuple[str, float]]:
        """A is to B as C is to ?: nearest to B - A + C, excluding the three inputs."""
        ra, rb, rc = self._rows(a), self._rows(b), self._rows(c)
        target = self._combine(rb) - self._combine(ra) + self._combine(rc)
        return self.nearest(target, n, exclude=[*ra, *rb, *rc])

    # -- lookup -----------------------------------------------------------------------------

    def _word_bytes(self, row: int) -> bytes:
        return self._blob[int(self._offsets[row]): int(self._offsets[row + 1]) - 1]

    def _word(self, row: int) -> str:
        return self._word_bytes(row).decode("utf-8")

    def _find(self, word: str) -> int | None:
        """Row of an exact word (the first, if the source repeats it), else None."""
        key = word.encode("utf-8")
        pos = bisect.bisect_left(self._sorted, key)
        if pos < len(self) and self._sorted[pos] == key:
            return int(self._sorted_rows[pos])
        return None

    def _find_any_case(self, word: str) -> int | None:
        row = self._find(word)
        if row is None and word.lower() != word:
            row = self._find(word.lower())
        return row

    def _rows(self, text: str) -> list[int]:
        """Rows whose mean is the vector of text: one for a word or phrase token, else one per word.

        What is not found as typed is looked up plain (wordspace/plain_words.py: `"dog's!"` as `dog`), then
        with its hyphens as spaces (`golden-retriever` as `golden retriever`)."""
        tokens = text.split()
        if not tokens:
            raise UsageError("empty word: give a word or a phrase")
        plain = plain_text(text).split() or tokens
        spellings = [tokens, plain, " ".join(plain).replace("-", " ").split() or plain]
        for candidate in dict.fromkeys(tuple(spelling) for spelling in spellings):
            rows = self._rows_as_spelled(list(candidate))
            if rows is not None:
                return rows
        unknown = next(token for token in plain if self._find_any_case(token) is None) if len(plain) > 1 else plain[0]
        raise UnknownWordError(unknown, lambda: self._suggest(unknown))  # searched only if read

    def _rows_as_spelled(self, tokens: list[str]) -> list[int] | None:
        """The row of the phrase as one token (joined by spaces, _ or -), else one row per word; None
        when a word is missing."""
        for joiner in (" ", "_", "-") if len(tokens) > 1 else (" ",):
            row = self._find_any_case(joiner.join(tokens))
            if row is not None:
                return [row]
        if len(tokens) == 1:
            return None
        rows = [self._find_any_case(token) for token in tokens]
        return None if None in rows else rows

    def _combine(self, rows: Sequence[int]) -> np.ndarray:
        """The unit mean of the rows' vectors (a copy: callers may modify it)."""
        if len(rows) == 1:
            return np.array(self.matrix[rows[0]], dtype=np.float32)
        return unit_rows(np.asarray(self.matrix[sorted(rows)], dtype=np.float32).mean(axis=0))

    # -- spelling suggestions ---------------------------------------------------------------

    def _frequent_words(self) -> list[str]:
        if self._frequent is None:
            end = int(self._offsets[min(_FREQUENT, len(self))])
            self._frequent = self._blob[:end].decode("utf-8").split("\n")[:-1]
        return self._frequent

    def _prefix_words(self, word: str) -> list[str]:
        """Words sharing the first 2 (or 3, when 2 match too many) letters, via binary search."""
        for size in (2, 3):
            prefix = word[:size].encode("utf-8")
            lo = bisect.bisect_left(self._sorted, prefix)
            hi = bisect.bisect_left(self._sorted, prefix + b"\xff", lo)
            if hi - lo <= _PREFIX_RANGE_MAX or size >= len(word):
                break
        rows = self._sorted_rows[lo: min(hi, lo + _PREFIX_RANGE_MAX)]
        starts, ends = self._offsets[rows].tolist(), (self._offsets[rows + 1] - 1).tolist()
        return [self._blob[a:b].decode("utf-8") for a, b in zip(starts, ends)]

    def longest(self) -> int:
        """The length of the vocabulary's longest word in UTF-8 bytes (at least its length in characters)."""
        if self._longest is None:
            self._longest = int(np.diff(self._offsets).max()) - 1
        return self._longest

    def _suggest(self, word: str) -> list[str]:
        """Up to 5 close spellings: the words one typing slip away first (two letters swapped, then one
        letter dropped, doubled, replaced or added; the more frequent first), then difflib's close
        matches from a candidate set small enough to answer in tens of ms. None for a word more than
        2 letters longer than every known word (no candidate is that close), so the work, which
        grows with the square of a word's length, stays bounded by the vocabulary's longest word.
        A word is never suggested unless it shares a character with what was typed (an emoji gets none,
        not "a, i, e")."""
        target = word.lower()
        if len(target) > self.longest() + 2:
            return []
        slips = self._one_slip_away(target)
        candidates = {
            w for w in (*self._frequent_words(), *self._prefix_words(target))
            if abs(len(w) - len(target)) <= 2 and w not in slips
        }
        close = slips + difflib.get_close_matches(target, candidates, n=5, cutoff=0.6)
        return [w for w in close if not set(w).isdisjoint(target)][:5]

    def _one_slip_away(self, word: str) -> list[str]:
        """Known words one edit from word: swaps of neighbouring letters, then deletions, replacements
        and insertions, each group in frequency order (rows are in the source's frequency order)."""
        letters = sorted(set("abcdefghijklmnopqrstuvwxyz") | set(word))
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        others = ({a + b[1:] for a, b in splits if b} | {a + c + b[1:] for a, b in splits if b for c in letters}
                  | {a + c + b for a, b in splits for c in letters})
        found: list[str] = []
        for group in (swaps, others - swaps):
            rows = sorted(row for row in (self._find(w) for w in group - {word}) if row is not None)
            found += [self._word(row) for row in rows if self._word(row) not in found]
        return found[:5]


def build_lookup(words: Sequence[str], vectors: np.ndarray, folder: Path, source: str = "") -> WordLookup:
    """Write a cache for `words` (in frequency order) and their vectors, atomically, and open it.

    The folder is built under a temporary name beside it and renamed into place, so a reader
    never sees half a cache; an existing folder is replaced.
    """
    folder = Path(folder)
    count = len(words)
    if count == 0 or getattr(vectors, "ndim", 0) != 2 or vectors.shape[0] != count:
        raise UsageError(
            f"word vectors are empty or do not match their vocabulary ({count} words, "
            f"array of shape {getattr(vectors, 'shape', None)})"
        )
    dims = int(vectors.shape[1])
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        digest = hashlib.sha256(f"{count} {dims}\n".encode())
        _write_words(words, tmp, digest)
        _write_vectors(vectors, tmp / "vectors.npy", digest)
        np.save(tmp / "sorted_rows.npy", _sort_order(words), allow_pickle=False)
        meta = {"layout": LAYOUT, "dims": dims, "count": count,
                "fingerprint": digest.hexdigest(), "source": source}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        _replace_dir(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return WordLookup.open(folder)


def _write_words(words: Sequence[str], tmp: Path, digest: "hashlib._Hash") -> None:
    blob = ("\n".join(map(str, words)) + "\n").encode("utf-8")
    if blob.count(b"\n") != len(words) or b"\0" in blob:
        raise UsageError("word vectors hold a word with a line break or NUL byte: not supported")
    digest.update(blob)
    (tmp / "words.utf8").write_bytes(blob)
    ends = np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == ord("\n")) + 1
    np.save(tmp / "word_offsets.npy", np.concatenate([[0], ends]).astype(np.int64), allow_pickle=False)


def _sort_order(words: Sequence[str]) -> np.ndarray:
    """Rows in UTF-8 byte order, stable (so the first of duplicate words is found)."""
    encoded = [str(w).encode("utf-8") for w in words]
    width = max(len(w) for w in encoded) or 1
    if len(encoded) * width <= _SORT_ARRAY_BYTES:  # numpy sorts fixed-width bytes ~3x faster
        return np.argsort(np.array(encoded, dtype=f"S{width}"), kind="stable").astype(np.int32)
    return np.asarray(sorted(range(len(encoded)), key=encoded.__getitem__), dtype=np.int32)


def _write_vectors(vectors: np.ndarray, path: Path, digest: "hashlib._Hash") -> None:
    """Unit-norm the rows in chunks into a memory-mapped .npy, so a 3M-word source fits in memory."""
    count, dims = vectors.shape
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(count, dims))
    for start in range(0, count, _CHUNK_ROWS):
        chunk = np.asarray(vectors[start: start + _CHUNK_ROWS], dtype=np.float32)
        if not np.isfinite(chunk).all():
            raise UsageError(f"word vectors hold a non-finite value near row {start}")
        unit = unit_rows(chunk)
        out[start: start + len(unit)] = unit
        digest.update(unit.tobytes())
    out.flush()
    del out


def _replace_dir(tmp: Path, folder: Path) -> None:
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.rename(folder, old)
        os.rename(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, folder)
