"""Choose the ranking's constants on a development set: class-vector recipe, ConSE T, BETA and TOP_K.

Prints, from one run, retrieval AP by head word and by category word (training/word_retrieval.py)
for the rankings of issue 9, then the grids the constants in model/conse.py, model/ranking.py and
store/kept_classes.py were read from, and the mass that keeping only the top K classes loses.
Tune on the development split only (e.g. ../shared/datasets/tuxpaint-objects --where kind=photo):
the project is judged on photos it has never seen.

    python scripts/tune_ranking.py DATASET [--where kind=photo]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsearch.core.settings import Settings  # noqa: E402
from devsearch.model.conse import (CONSE_TOP_T, HYPERNYM_LEVELS, HYPERNYM_WEIGHT, imagenet_label_vectors,  # noqa: E402
                         project_all, top_classes)
from devsearch.model.ranking import BETA, word_weights  # noqa: E402
from devsearch.store.kept_classes import TOP_K  # noqa: E402
from devsearch.training.word_retrieval import category_queries, head_queries, meaning_ranker, retrieval_metrics  # noqa: E402
from dev_outputs import dev_outputs  # noqa: E402

BETAS = (0, 1, 2, 3, 5, 10, 20, 100)
TOP_TS = (10, 20, 50)
LEVELS = (0, 1, 2, 3)
WEIGHTS = (0.5, 1.0, 2.0)
KS = (10, 20, 50, 100, 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--where", action="append", default=[], help="COLUMN=VALUE, as for `devsearch eval`")
    args = parser.parse_args()
    settings = Settings()
    outputs = dev_outputs(args.dataset, args.where, settings)
    images, probabilities, words, senses = outputs.images, outputs.probabilities, outputs.words, outputs.senses
    queries = {kind: {w: r for w, r in found(images).items() if words.has(w)}
               for kind, found in (("head", head_queries), ("category", category_queries))}
    vectors = {(levels, weight): imagenet_label_vectors(words, senses, levels, weight)[0]
               for levels in LEVELS for weight in (WEIGHTS if levels else (0.0,))}

    def ap(levels: int, weight: float, top_t: int, beta: float, keep: int = TOP_K) -> tuple[float, float]:
        rank = meaning_ranker(project_all(probabilities, vectors[levels, weight], top_t), words, probabilities,
                              beta, keep)
        return tuple(retrieval_metrics(rank, queries[kind], kind)[f"{kind}_ap"] for kind in ("head", "category"))

    print(f"{len(images)} images; {len(queries['head'])} head words, {len(queries['category'])} category words: "
          f"{', '.join(queries['category'])}")
    print("\n| ranking | head-word AP | category-word AP |\n|---|---:|---:|")
    chosen = (HYPERNYM_LEVELS, HYPERNYM_WEIGHT)
    for name, recipe, top_t, beta in (
            ("before: ConSE T=10, class vector = first synonym, cosine", (0, 0.0), 10, 0),
            (f"class vectors blended with hypernyms ({HYPERNYM_LEVELS} levels, weight {HYPERNYM_WEIGHT:g})",
             chosen, 10, 0),
            (f"cosine + {BETA:g} x mass", (0, 0.0), 10, BETA),
            (f"after: both, T={CONSE_TOP_T} (the default)", chosen, CONSE_TOP_T, BETA)):
        head, category = ap(*recipe, top_t, beta)
        print(f"| {name} | {head:.3f} | {category:.3f} |")

    print(f"\nAP head/category by class vectors and T (beta {BETA:g}):")
    for (levels, weight) in vectors:
        print(f"  levels {levels} weight {weight:g}: " + "  ".join(
            "T={} {:.3f}/{:.3f}".format(t, *ap(levels, weight, t, BETA)) for t in TOP_TS))
    print(f"\nAP head/category by beta (levels {HYPERNYM_LEVELS}, weight {HYPERNYM_WEIGHT:g}, T={CONSE_TOP_T}):")
    print("  " + "  ".join("{:g}: {:.3f}/{:.3f}".format(b, *ap(*chosen, CONSE_TOP_T, b)) for b in BETAS))

    print("\nkeeping the top K classes: AP head/category, and the largest mass a category word loses")
    category_classes = [word_weights(w, senses) for w in queries["category"]]
    category_classes = [c for c in category_classes if c]
    for k in KS:
        ids, kept = top_classes(probabilities, k)
        lost = max(float(np.max(c.mass(*top_classes(probabilities, 1000)) - c.mass(ids, kept)))
                   for c in category_classes)
        print("  K={}: {:.3f}/{:.3f}, mass lost <= {:.3f}".format(k, *ap(*chosen, CONSE_TOP_T, BETA, k), lost))


if __name__ == "__main__":
    main()
