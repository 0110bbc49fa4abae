"""Build wordspace/data/wordnet_nouns.tsv.gz, the compact WordNet 3.0 noun hierarchy devsearch ships.

Source: Debian's `wordnet-base` (`apt-get install wordnet-base` puts data.noun, index.noun and
noun.exc under /usr/share/wordnet). Only what evaluation needs is kept: hypernym edges ('@' and
instance '@i') of every noun synset, each lemma's noun senses in WordNet's order (most frequent
first) and the irregular plurals. WordNet's licence allows redistribution with its notice, which
the file carries as its first lines.

Run: python scripts/build_wordnet.py [--wordnet /usr/share/wordnet] [--out wordspace/data/wordnet_nouns.tsv.gz]
"""
from __future__ import annotations

import argparse
import gzip
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "wordspace" / "data" / "wordnet_nouns.tsv.gz"


def read_licence(data_noun: Path) -> list[str]:
    """The licence header of data.noun (lines starting with two spaces), without line numbers."""
    lines = []
    with data_noun.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("  "):
                break
            lines.append(line.strip().split(" ", 1)[1].strip() if " " in line.strip() else "")
    return lines


def read_synsets(data_noun: Path) -> dict[str, tuple[list[str], list[str]]]:
    """synset offset -> (its lemmas, `_` as space, the first being its name; hypernym offsets ('@' and
    '@i' pointers to nouns)), in file order."""
    synsets: dict[str, tuple[list[str], list[str]]] = {}
    with data_noun.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            fields = line.split(" | ", 1)[0].split()
            offset, word_count = fields[0], int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(word_count)]
            pos = 4 + 2 * word_count
            pointer_count = int(fields[pos])
            parents = []
            for i in range(pointer_count):
                symbol, target, target_pos = fields[pos + 1 + 4 * i: pos + 4 + 4 * i]
                if symbol in ("@", "@i") and target_pos == "n":
                    parents.append(target)
            synsets[offset] = (lemmas, parents)
    return synsets


def read_hypernyms(data_noun: Path) -> dict[str, list[str]]:
    """synset offset -> hypernym offsets, in file order."""
    return {offset: parents for offset, (_, parents) in read_synsets(data_noun).items()}


def read_senses(index_noun: Path) -> dict[str, list[str]]:
    """lemma -> noun synset offsets, most frequent sense first (index.noun's order)."""
    senses = {}
    with index_noun.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            fields = line.split()
            synset_count, pointer_count = int(fields[2]), int(fields[3])
            senses[fields[0]] = fields[6 + pointer_count: 6 + pointer_count + synset_count]
    return senses


def read_exceptions(noun_exc: Path) -> list[list[str]]:
    with noun_exc.open(encoding="utf-8") as handle:
        return [line.split() for line in handle if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    licence = read_licence(args.wordnet / "data.noun")
    edges = read_hypernyms(args.wordnet / "data.noun")
    senses = read_senses(args.wordnet / "index.noun")
    exceptions = read_exceptions(args.wordnet / "noun.exc")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives a byte-identical file
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as packed:
        lines = ["# WordNet 3.0 noun hierarchy, derived by scripts/build_wordnet.py from Debian wordnet-base."]
        lines += ["# " + text for text in licence]
        lines += ["# rows: s<TAB>synset<TAB>hypernyms | l<TAB>lemma<TAB>synsets, most frequent first | e<TAB>plural<TAB>singulars"]
        lines += [f"s\t{offset}\t{' '.join(parents)}" for offset, parents in edges.items()]
        lines += [f"l\t{lemma}\t{' '.join(offsets)}" for lemma, offsets in senses.items()]
        lines += [f"e\t{words[0]}\t{' '.join(words[1:])}" for words in exceptions]
        packed.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(edges)} synsets, {len(senses)} lemmas, {len(exceptions)} plurals, "
          f"{args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
