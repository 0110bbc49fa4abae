"""The WordNet 3.0 noun hierarchy: map a label to a synset and walk up its hypernyms.

Evaluation needs it for the paper's hierarchical precision@k. The data is the compact file
devise/data/wordnet_nouns.tsv.gz (built by scripts/build_wordnet.py from Debian's wordnet-base),
so no NLTK and no system WordNet is needed at run time. numpy-free, stdlib only.
"""
from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from devsearch.core.errors import AssetMissingError
from devsearch.wordspace.plain_words import plain_text

DATA_FILE = "wordnet_nouns.tsv.gz"

# WordNet's morphy rules for nouns (suffix, replacement), tried after the irregular plurals.
_NOUN_SUFFIXES = (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
                  ("shes", "sh"), ("men", "man"), ("ies", "y"))
_CLAUSE_WORDS = (" of ", " with ", " and ", " in ", " on ", " for ")


@dataclass(frozen=True)
class Hierarchy:
    """A DAG of nodes with parent edges (for WordNet: synset -> hypernyms)."""

    parents: Mapping[str, Sequence[str]]

    def ancestor_levels(self, node: str) -> dict[str, int]:
        """Every ancestor of node (itself at level 0) with its shortest distance upwards."""
        levels = {node: 0}
        frontier = [node]
        while frontier:
            following = []
            for current in frontier:
                for parent in self.parents.get(current, ()):
                    if parent not in levels:
                        levels[parent] = levels[current] + 1
                        following.append(parent)
            frontier = following
        return levels


class WordNet:
    """Noun synsets (ids are WordNet 3.0 offsets, e.g. '02084071' = dog) and their hypernyms."""

    def __init__(self, hierarchy: Hierarchy, senses: Mapping[str, Sequence[str]],
                 plurals: Mapping[str, Sequence[str]]):
        self.hierarchy = hierarchy
        self._senses = senses
        self._plurals = plurals

    def synsets(self, lemma: str) -> list[str]:
        """Noun synsets of a word or phrase, most frequent sense first; plurals are reduced (morphy).
        Not found as typed, it is looked up plain (wordspace/plain_words.py: `"dog's"` as `dog`)."""
        found = self.lemma_of(lemma)
        return list(self._senses[found]) if found is not None else []

    def lemma_of(self, text: str, known: Callable[[str], bool] | None = None) -> str | None:
        """The WordNet lemma (`_` for spaces) a word or phrase is looked up as (see synsets), or None.
        known: whether a candidate lemma counts as found (default: it has noun senses here)."""
        known = known or (lambda key: bool(self._senses.get(key)))
        for typed in dict.fromkeys((text, plain_text(text))):
            words = typed.lower().split()
            for key in dict.fromkeys(("_".join(words), "_".join(" ".join(words).replace("-", " ").split()))):
                for base in self._base_forms(key):
                    if known(base):
                        return base
        return None

    def singular(self, word: str) -> str:
        """A plural noun's singular as WordNet reduces it ("birds" -> "bird", "mice" -> "mouse"), else the word."""
        for base in self._base_forms(word.lower())[1:]:
            if base in self._senses:
                return base
        return word

    def phrase_synsets(self, phrase: str, head: str | None = None) -> list[str]:
        """Noun synsets of a phrase as a whole (a WordNet lemma such as "golden retriever"), else of its head.

        head: the phrase's head noun when known; else the phrase before a clause word
        ("head of lettuce" -> "head"), then its shorter endings ("red apple" -> "apple").
        """
        found = self.phrase_lemma(phrase, head)
        return list(self._senses[found]) if found is not None else []

    def phrase_lemma(self, phrase: str, head: str | None = None, known: Callable[[str], bool] | None = None) -> str | None:
        """The lemma phrase_synsets finds a phrase under (its own, else its head's), or None; known as in lemma_of."""
        for candidate in (phrase, *(_head_candidates(phrase) if head is None else (head,))):
            found = self.lemma_of(candidate, known)
            if found is not None:
                return found
        return None

    def label_synset(self, label: str, head: str | None = None) -> str | None:
        """The synset a dataset label stands for: the first of its phrase_synsets."""
        found = self.phrase_synsets(label, head)
        return found[0] if found else None

    def _base_forms(self, word: str) -> list[str]:
        forms = [word, *self._plurals.get(word, ())]
        forms += [word[: -len(suffix)] + ending for suffix, ending in _NOUN_SUFFIXES
                  if word.endswith(suffix) and len(word) > len(suffix)]
        return forms


def _head_candidates(label: str) -> list[str]:
    text = f" {label.lower()} "
    for word in _CLAUSE_WORDS:
        if word in text:
            text = text.split(word, 1)[0] + " "
    words = text.split()
    return [" ".join(words[i:]) for i in range(1, len(words))]


def parse(lines: Iterable[str]) -> WordNet:
    """Read the rows of the compact file (see scripts/build_wordnet.py)."""
    parents: dict[str, tuple[str, ...]] = {}
    senses: dict[str, tuple[str, ...]] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    tables = {"s": parents, "l": senses, "e": plurals}
    for line in lines:
        if line.startswith("#"):
            continue
        kind, key, values = line.rstrip("\n").split("\t")
        tables[kind][key] = tuple(values.split())
    return WordNet(Hierarchy(parents), senses, plurals)


@lru_cache(maxsize=1)
def load_wordnet() -> WordNet:
    """The shipped WordNet noun hierarchy (read once per process, ~0.5 s)."""
    try:
        raw = resources.files("devsearch.wordspace").joinpath("data", DATA_FILE).read_bytes()
    except OSError as exc:
        raise AssetMissingError(
            f"the WordNet noun data ({DATA_FILE}) is missing: reinstall devsearch or run scripts/build_wordnet.py ({exc})"
        ) from None
    return parse(gzip.decompress(raw).decode("utf-8").splitlines())
