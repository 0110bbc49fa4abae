"""Which ImageNet classes a word covers: its WordNet noun senses and the classes at or below them.

A photo whose classifier says "toucan 0.8" is a bird with probability at least 0.8, because WordNet
puts toucan below bird. The data is model/data/imagenet_senses.tsv (built by
scripts/build_class_senses.py): on the query path it is read as one string, and each kind of row is
indexed on its first use (about 1 ms a kind), so a word query parses little.
Plural forms are reduced with WordNet's own rules (wordspace.wordnet). No numpy, no NLTK.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
import re

from devsearch.core.errors import AssetMissingError
from devsearch.wordspace.wordnet import Hierarchy, WordNet

DATA_FILE = "imagenet_senses.tsv"
BACKOFF_FILE = "imagenet_backoff.tsv"


@dataclass(frozen=True)
class Sense:
    """One WordNet noun synset: its id ("n01843383"), its lemmas (name first) and the classes below it."""

    wnid: str
    lemmas: tuple[str, ...]
    classes: tuple[int, ...]

    @property
    def name(self) -> str:
        return self.lemmas[0]


class _Rows(Mapping):
    """The rows of one kind as a read-only mapping key -> tuple of fields, indexed on first use
    (about 1 ms a kind: a one-shot query reads little, a long-lived searcher looks up in O(1))."""

    def __init__(self, text: str, kind: str, split: str | None = " "):
        self._text = text
        self._kind = kind
        self._split = split
        self._lines: dict[str, str] | None = None

    @property
    def _index(self) -> dict[str, str]:
        if self._lines is None:
            self._lines = dict(re.findall(rf"\n{re.escape(self._kind)}\t([^\t\n]*)\t([^\n]*)", self._text))
        return self._lines

    def __getitem__(self, key: str) -> tuple[str, ...]:
        line = self._index[key]
        if self._split is None:
            return tuple(line.split("\t"))
        return tuple(line.split(self._split)) if line else ()

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


class ClassSenses:
    """Word -> WordNet noun senses -> ImageNet classes, and each class's WordNet path."""

    def __init__(self, text: str):
        self._synsets = _Rows(text, "s", split=None)  # synset -> (lemmas, hypernyms, classes)
        self._classes = _Rows(text, "c")  # class index -> (synset,)
        self._weights = _Rows(text, "w")  # lemma -> the weight of each synset of its "l" row
        self._wordnet = WordNet(Hierarchy(_Parents(self._synsets)), _Rows(text, "l"), _Rows(text, "e"))
        self._by_class: dict[int, Sense] = {}
        self._by_wnid: dict[str, int] | None = None
        self._text = text

    def senses(self, text: str) -> list[Sense]:
        """The noun senses of a word or phrase (else of its head noun) that cover at least one class,
        most frequent first."""
        return [self.sense(synset) for synset in self._wordnet.phrase_synsets(text)]

    def weighted_senses(self, text: str) -> list[tuple[Sense, float]]:
        """senses(text), each with how common it is among the lemma's noun senses (1 for the most
        common; scripts/build_class_senses.sense_weight): `kite` the bird, 4th of 4 senses, 0.5."""
        lemma = self._wordnet.phrase_lemma(text)
        if lemma is None:
            return []
        synsets = self._wordnet.synsets(lemma)
        weights = [float(w) for w in self._weights.get(lemma, ())] or [1.0] * len(synsets)
        return [(self.sense(synset), weight) for synset, weight in zip(synsets, weights)]

    def lemma_of(self, text: str, known: Callable[[str], bool]) -> str | None:
        """The form of text (as typed, plain, singular, its head) that `known` knows, or None."""
        return self._wordnet.phrase_lemma(text, known=known)

    def is_below(self, synset: str, ancestor: str) -> bool:
        """Whether WordNet puts synset (an id without its 'n', with classes below it) at or below ancestor."""
        return ancestor in self._wordnet.hierarchy.ancestor_levels(synset)
    def names_a_noun(self, text: str) -> bool:
        """Whether WordNet has text as a noun as it stands (a phrase as a whole, not its head)."""
        return bool(self._wordnet.synsets(text))

    def sense(self, synset: str) -> Sense:
        lemmas, _, classes = self._synsets[synset]
        return Sense("n" + synset, tuple(lemmas.split("|")), tuple(int(i) for i in classes.split()))

    def covered(self, text: str) -> list[int]:
        """The classes at or below any noun sense of text, ascending (empty when none)."""
        return sorted({index for sense in self.senses(text) for index in sense.classes})

    def class_index(self, wnid: str) -> int:
        """The classifier index of the ImageNet class with this WordNet id ("n01443537" -> 1); KeyError if none."""
        if self._by_wnid is None:
            self._by_wnid = {"n" + synset: int(index) for index, synset in re.findall(r"\nc\t(\d+)\t(\d+)", self._text)}
        return self._by_wnid[wnid]

    def class_sense(self, index: int) -> Sense:
        """The synset of ImageNet class `index` (0..999)."""
        if index not in self._by_class:
            self._by_class[index] = self.sense(self._classes[str(index)][0])
        return self._by_class[index]

    def path(self, index: int, levels: int = 4) -> list[str]:
        """Names from class `index` up its first hypernyms, e.g. toucan < piciform bird < bird < ..."""
        synset = self._classes[str(index)][0]
        names = []
        for _ in range(levels + 1):
            lemmas, hypernyms, _ = self._synsets[synset]
            names.append(lemmas.split("|")[0])
            if not hypernyms:
                break
            synset = hypernyms.split()[0]
        return names

    def hypernyms(self, index: int, levels: int) -> list[Sense]:
        """The synsets 1..levels steps above class `index` (every hypernym path), nearest first."""
        found = self._wordnet.hierarchy.ancestor_levels(self._classes[str(index)][0])
        return [self.sense(synset) for synset, level in sorted(found.items(), key=lambda item: item[1])
                if 0 < level <= levels]


class _Parents(Mapping):
    """synset -> hypernyms, from the synset rows (for Hierarchy.ancestor_levels)."""

    def __init__(self, synsets: _Rows):
        self._synsets = synsets

    def __getitem__(self, synset: str) -> tuple[str, ...]:
        return tuple(self._synsets[synset][1].split())

    def __iter__(self) -> Iterator[str]:
        return iter(self._synsets)

    def __len__(self) -> int:
        return len(self._synsets)


@lru_cache(maxsize=1)
def load_class_senses() -> ClassSenses:
    """The shipped map (one file read per process, ~1 ms)."""
    try:
        text = resources.files("devsearch.model").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetMissingError(
            f"the ImageNet-WordNet map ({DATA_FILE}) is missing: reinstall devsearch or run "
            f"scripts/build_class_senses.py ({exc})"
        ) from None
    return ClassSenses("\n" + text)
