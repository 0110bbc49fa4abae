"""What the query path pays for word vectors: import, opening the GloVe cache, one lookup.

Run: python bench/word_lookup_import.py   (uses the devsearch cache dir; builds the cache once)
Prints figures from this run and ratios against the gensim route it replaces.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devsearch.core.errors import UnknownWordError  # noqa: E402
from devsearch.core.settings import Settings  # noqa: E402
from devsearch.wordspace.lookup import WordLookup  # noqa: E402
from devsearch.wordspace.sources import BUILTIN, open_words  # noqa: E402

WORDS = ["dog", "cat", "beach", "mountain", "golden retriever", "Sunset", "birthday cake", "car"]
TYPOS = ["retreiver", "elephnat", "beautifull", "dgo"]


def _top_level_us(statement: str) -> int:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", statement],
                          cwd=REPO, capture_output=True, text=True, check=True)
    total = 0
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and not parts[2].startswith("  "):
            total += int(parts[1]) if parts[1].strip().isdigit() else 0
    return total


def import_time_us(module: str) -> int:
    """Microseconds that `import module` adds in a fresh interpreter (python -X importtime, best of 3)."""
    baseline = min(_top_level_us("pass") for _ in range(3))
    return min(_top_level_us(f"import {module}") for _ in range(3)) - baseline


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    cache = Settings().cache
    lookup_us = import_time_us("devsearch.wordspace.lookup")
    gensim_us = import_time_us("gensim.models")
    print(f"import wordspace.lookup : {lookup_us / 1000:7.1f} ms (fresh process, -X importtime)")
    print(f"import gensim.models      : {gensim_us / 1000:7.1f} ms  -> lookup path is {gensim_us / lookup_us:.1f}x cheaper")

    start = time.perf_counter()
    space = open_words(BUILTIN, cache)
    print(f"open_words({BUILTIN!r})  : {(time.perf_counter() - start) * 1000:7.1f} ms (builds the cache on first run)")
    open_s = median_s(lambda: WordLookup.open(space.folder), 20)
    print(f"WordLookup.open (cached)  : {open_s * 1000:7.2f} ms median of 20 ({len(space):,} words x {space.dims})")

    fresh = WordLookup.open(space.folder)
    start = time.perf_counter()
    fresh.vector("dog")
    print(f"first lookup after open   : {(time.perf_counter() - start) * 1e6:7.1f} us")
    per_word = median_s(lambda: [space.vector(w) for w in WORDS], 200) / len(WORDS)
    print(f"vector(word), per word    : {per_word * 1e6:7.1f} us median over {WORDS}")
    near = median_s(lambda: space.nearest(space.vector("dog"), 10), 20)
    print(f"nearest(vec, 10), 400k    : {near * 1000:7.1f} ms")
    for typo in TYPOS:
        start = time.perf_counter()
        try:
            space.vector(typo)
            suggestions: list[str] = []
        except UnknownWordError as err:
            suggestions = err.suggestions
        print(f"unknown {typo!r:13}: {(time.perf_counter() - start) * 1000:6.1f} ms -> {suggestions}")

    kv_s = median_s(lambda: subprocess.run(
        [sys.executable, "-c", "from wordspace.sources import load_keyed_vectors as l; l('glove-6b-50d')"],
        cwd=REPO, check=True), 1)
    cli_s = median_s(lambda: subprocess.run(
        [sys.executable, "-c", f"from wordspace.lookup import WordLookup; from pathlib import Path; "
                               f"WordLookup.open(Path({str(space.folder)!r})).vector('dog')"],
        cwd=REPO, check=True), 3)
    print(f"fresh process, word vector: lookup cache {cli_s:.2f} s vs gensim KeyedVectors {kv_s:.2f} s "
          f"-> {kv_s / cli_s:.1f}x")


if __name__ == "__main__":
    main()
