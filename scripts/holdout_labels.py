"""Print a seeded random fraction of a dataset's labels, one a line, for `--holdout-labels`.

The reproduction of the evaluation table of docs/ranking.md holds out half of the labels of the Tux Paint
photos (so they are zero-shot for the trained head, and their photos are never trained on):

    python scripts/holdout_labels.py ../shared/datasets/tuxpaint-objects --where kind=photo --fraction 0.5 --seed 0

--complement prints the other labels of the same split (the second fold).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsearch.training.datasets import pick_holdout, read_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--where", action="append", default=[], help="COLUMN=VALUE filter, e.g. kind=photo")
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--complement", action="store_true", help="print the labels not picked")
    args = parser.parse_args()
    labels = read_dataset(args.dataset, args.where).labels
    picked = set(pick_holdout(labels, args.fraction, args.seed))
    chosen = sorted(set(labels) - picked) if args.complement else sorted(picked)
    print("\n".join(chosen))


if __name__ == "__main__":
    main()
