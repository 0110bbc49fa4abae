"""What a query word can be seen by in a photo: the ImageNet classes it reaches (and how much each
counts) and the people detectors' signal it uses, with the route each took, for ranking and --explain.

The routes, in order:
1. **Senses**: the classes at or below the word's WordNet noun senses (model/class_senses.py), each
   sense weighted by how common it is (`kite` the bird, 4th of 4 senses, counts 0.5, so the toy is
   not drowned by birds; `cat` the animal 1, `cat` the big cat 0.087).
2. **Scenes**: a hand-reviewed map from scene words to ImageNet's scene classes (`beach` -> seashore,
   sandbar), model/data/curated_classes.tsv, counted SCENE_WEIGHT.
3. **Backoff**: a word with no class through 1 or 2 backs off, at BACKOFF_DISCOUNT, to the classes
   under its nearest hypernym that has some (`crow` -> corvine bird: magpie, jay; `cow` -> cattle: ox;
   model/data/imagenet_backoff.tsv, built by scripts/build_class_senses.py).
4. **Near-duplicates**: classes that name nearly the same thing (grey whale and killer whale, laptop
   and notebook, curated_classes.tsv) share a word's weight at NEAR_DUPLICATE_SHARE.
5. **People** (model/people.py): `person` and its synonyms use the person score; a word below person
   in WordNet (`man`, `astronaut`, `baby`) the person score at PEOPLE_DISCOUNT, since the detector
   cannot tell kinds of people apart; `people`, `crowd`, `group`, `family` the number of people;
   `portrait`, `selfie`, `face` the largest face's share (curated_classes.tsv).
No numpy, no TensorFlow: the query path reads these files as text (the backoff file only for a word
that needs it).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from devsearch.core.errors import AssetMissingError
from devsearch.model.class_senses import BACKOFF_FILE, ClassSenses, Sense, load_class_senses

CURATED_FILE = "curated_classes.tsv"
PERSON_SYNSET = "00007846"  # person, individual, someone, somebody, mortal, soul
SCENE_WEIGHT = 1.0
BACKOFF_DISCOUNT = 0.5
NEAR_DUPLICATE_SHARE = 0.5
PEOPLE_DISCOUNT = 0.6
ROUTES = frozenset({"weights", "scene", "backoff", "near", "people"})  # beyond the senses (scripts/eval_word_evidence.py)
PEOPLE_MIN_SENSE = 0.5  # a rare sense below person does not make a word about people (`crow`: the Crow people)


@dataclass(frozen=True)
class PeopleUse:
    """Which people column a word reads (model/people.py) and how much it counts."""

    column: str  # person_score | people_count | face_share
    weight: float
    below_person: bool = False  # a kind of person the detector cannot tell from any other


@dataclass(frozen=True)
class WordEvidence:
    """One word's classes (ascending, each with its weight in (0, 1]) and people signal, and how they were reached."""

    word: str
    classes: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()
    senses: tuple[tuple[Sense, float], ...] = ()  # covering senses and their weights, most common first
    scene: tuple[int, ...] = ()  # classes from the curated scene map
    backoff: tuple[tuple[Sense, float], ...] = ()  # hypernyms backed off to, with the weight of the sense
    near: tuple[int, ...] = ()  # classes reached as near-duplicates of others
    people: PeopleUse | None = None
    routes: dict[int, str] = field(default_factory=dict, compare=False)  # class -> senses|scene|backoff|near

    def __bool__(self) -> bool:
        return bool(self.classes) or self.people is not None


class Curated:
    """model/data/curated_classes.tsv: scene words, near-duplicate class groups, people words."""

    def __init__(self, text: str, wnid_index: Callable[[str], int]):
        self.scenes: dict[str, tuple[int, ...]] = {}
        self.same: dict[int, tuple[int, ...]] = {}
        self.people: dict[str, str] = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            kind, *fields = line.split("\t")
            if kind == "scene":
                self.scenes[fields[0]] = tuple(wnid_index(w) for w in fields[1].split())
            elif kind == "same":
                group = tuple(wnid_index(w) for w in fields[0].split())
                for index in group:
                    self.same[index] = tuple(sorted(set(self.same.get(index, ())) | set(group) - {index}))
            elif kind == "people":
                self.people[fields[0]] = fields[1]


def _read(name: str) -> str:
    try:
        return resources.files("devsearch.model").joinpath("data", name).read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetMissingError(f"{name} is missing: reinstall devsearch or run scripts/build_class_senses.py "
                                f"({exc})") from None


@lru_cache(maxsize=1)
def load_curated() -> Curated:
    return Curated(_read(CURATED_FILE), load_class_senses().class_index)


@lru_cache(maxsize=1)
def _backoff_text() -> str:
    return "\n" + _read(BACKOFF_FILE)


@lru_cache(maxsize=4096)
def backoff_of(lemma: str) -> tuple[tuple[str, float], ...]:
    """(hypernym synset, sense weight) rows of a lemma with no class below any sense; () if none. A plain
    substring search of the 1 MB file, remembered per lemma (a regular expression took 0.7 ms a call;
    parsing the whole file into a mapping would cost a cold query 50 ms)."""
    text, key = _backoff_text(), f"\n{lemma}\t"
    start = text.find(key)
    if start < 0 or "\n" in lemma or "\t" in lemma:
        return ()
    start += len(key)
    end = text.find("\n", start)
    row = text[start:] if end < 0 else text[start:end]
    return tuple((synset, float(weight)) for synset, weight in (item.split(":") for item in row.split()))


def _merge(weights: dict[int, float], routes: dict[int, str], classes, weight: float, route: str) -> None:
    for index in classes:
        if weight > weights.get(index, 0.0):
            weights[index] = weight
            routes[index] = route


def word_evidence(word: str, senses: ClassSenses | None = None, curated: Curated | None = None,
                  use: frozenset[str] = ROUTES) -> WordEvidence:
    """Everything a word reaches (see the module doc); `use`: the routes beyond the senses to take
    (all by default; fewer to measure what each adds)."""
    senses = senses or load_class_senses()
    curated = curated or load_curated()
    weights: dict[int, float] = {}
    routes: dict[int, str] = {}
    covering = [(sense, weight if "weights" in use else 1.0) for sense, weight in senses.weighted_senses(word)]
    for sense, weight in covering:
        _merge(weights, routes, sense.classes, weight, "senses")
    scene_word = senses.lemma_of(word, lambda key: key.replace("_", " ") in curated.scenes) if "scene" in use else None
    scene = curated.scenes[scene_word.replace("_", " ")] if scene_word else ()
    _merge(weights, routes, scene, SCENE_WEIGHT, "scene")
    backoff: list[tuple[Sense, float]] = []
    if not weights and "backoff" in use:
        lemma = senses.lemma_of(word, lambda key: bool(backoff_of(key)))
        for synset, weight in backoff_of(lemma) if lemma else ():
            sense = senses.sense(synset)
            backoff.append((sense, weight))
            _merge(weights, routes, sense.classes, weight * BACKOFF_DISCOUNT, "backoff")
    near = set()
    for index, weight in list(weights.items()) if "near" in use else ():
        for other in curated.same.get(index, ()):
            if other not in weights or weights[other] < weight * NEAR_DUPLICATE_SHARE:
                near.add(other)
                _merge(weights, routes, (other,), weight * NEAR_DUPLICATE_SHARE, "near")
    ordered = sorted(weights)
    return WordEvidence(word, tuple(ordered), tuple(weights[i] for i in ordered), tuple(covering), tuple(scene),
                        tuple(backoff), tuple(sorted(near)),
                        _people_use(word, senses, curated, covering, backoff) if "people" in use else None, routes)


def _people_use(word: str, senses: ClassSenses, curated: Curated, covering: list[tuple[Sense, float]],
                backoff: list[tuple[Sense, float]]) -> PeopleUse | None:
    listed = senses.lemma_of(word, lambda key: key.replace("_", " ") in curated.people)
    if listed is not None:
        return PeopleUse(curated.people[listed.replace("_", " ")], 1.0)
    for sense, weight in covering:
        if sense.wnid[1:] == PERSON_SYNSET:
            return PeopleUse("person_score", weight)
    for sense, weight in [*covering, *backoff]:
        if weight >= PEOPLE_MIN_SENSE and senses.is_below(sense.wnid[1:], PERSON_SYNSET):
            return PeopleUse("person_score", weight * PEOPLE_DISCOUNT, below_person=True)
    return None
