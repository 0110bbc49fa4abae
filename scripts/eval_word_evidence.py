"""What each route of model/word_evidence.py adds to retrieval by word, on development datasets.

For each dataset: the default bundle's ConSE vectors and classifier outputs (backbone features
cached as for `devsearch eval`), and with --people the people detectors run on every image (as the
indexer runs them, with the person component added to the vectors). Queries: head words and
category words (training/word_retrieval.py), and for a dataset with `alt_labels` (people-dev) every
word of its label or alt_labels on at least two images. Each query is ranked as `devsearch query`
ranks (cosine + BETA x (mass + people)) with the routes added one at a time, and the mean AP printed
(P@1 too), then each alt-label word's AP before and after.
Tune on ../shared/datasets only: the project is also judged on photos it has never seen.

    python scripts/eval_word_evidence.py DATASET [--where kind=photo] [--people]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsearch.core.photo import decode_photo  # noqa: E402
from devsearch.core.settings import Settings  # noqa: E402
from devsearch.core.vectors import unit_rows  # noqa: E402
from devsearch.model.conse import CONSE_TOP_T, imagenet_label_vectors, project_all, top_classes  # noqa: E402
from devsearch.model.people import PERSON_WORD, strength, with_person  # noqa: E402
from devsearch.model.ranking import BETA, class_weights  # noqa: E402
from devsearch.model.word_evidence import ROUTES, word_evidence  # noqa: E402
from devsearch.store.kept_classes import TOP_K  # noqa: E402
from devsearch.training.word_retrieval import category_queries, head_queries  # noqa: E402
from dev_outputs import dev_outputs  # noqa: E402

STEPS = (("senses only, every class 1 (before)", frozenset()),
         ("+ sense weights", frozenset({"weights"})),
         ("+ scenes", frozenset({"weights", "scene"})),
         ("+ hypernym backoff", frozenset({"weights", "scene", "backoff"})),
         ("+ near-duplicates", frozenset({"weights", "scene", "backoff", "near"})),
         ("+ people signals (all)", ROUTES))


def label_queries(images) -> dict[str, np.ndarray]:
    """Each word of label or alt_labels on at least two images -> which images have it."""
    words = [{w.strip().lower() for w in [image.label, *image.fields.get("alt_labels", "").split(";")] if w.strip()}
             for image in images]
    found = {word: np.array([word in mine for mine in words]) for word in sorted(set().union(*words))}
    return {word: relevant for word, relevant in found.items() if relevant.sum() >= 2}


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> tuple[float, float]:
    ranked = relevant[np.argsort(-scores, kind="stable")]
    hits = np.flatnonzero(ranked) + 1
    return float(ranked[0]), float(np.mean(np.arange(1, len(hits) + 1) / hits))


def print_detection(images, signals) -> None:
    """Found / false alarms / right count, against the dataset's `people` column."""
    truth = np.array([int(image.fields.get("people") or 0) for image in images])
    found = np.array([s.people for s in signals])
    with_people = truth > 0
    print(f"people detection: {int((found[with_people] > 0).sum())} of {int(with_people.sum())} photos with people "
          f"found, {int((found[~with_people] > 0).sum())} false alarms in {int((~with_people).sum())} without; count "
          f"right on {int((found[with_people] == truth[with_people]).sum())} of {int(with_people.sum())}; person "
          f"scores with people {min(s.person_score for s, t in zip(signals, with_people) if t):.2f} and up, "
          f"without {max(s.person_score for s, t in zip(signals, with_people) if not t):.2f} at most")
    for image, signal in zip(images, signals):
        if signal.face_share:
            print(f"  face: {image.path.name} {signal.face_share:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--where", action="append", default=[])
    parser.add_argument("--people", action="store_true", help="run the people detectors on every image")
    args = parser.parse_args()
    settings = Settings()
    outputs = dev_outputs(args.dataset, args.where, settings)
    images, probabilities, words, senses = outputs.images, outputs.probabilities, outputs.words, outputs.senses
    vectors = project_all(probabilities, imagenet_label_vectors(words, senses)[0], CONSE_TOP_T)
    signals = None
    if args.people:
        from devsearch.model.people_detectors import PeopleDetectors

        detectors = PeopleDetectors(settings.cache)
        signals = [detectors.signal(decode_photo(image.path, keep_whole=True).whole) for image in images]
        if any("people" in image.fields for image in images):
            print_detection(images, signals)
        vectors = with_person(vectors, np.array([s.person_score for s in signals]), words.vector(PERSON_WORD))
    vectors = unit_rows(vectors)
    kept = top_classes(probabilities, TOP_K)
    queries = {"head": head_queries(images), "category": category_queries(images)}
    if any("alt_labels" in image.fields for image in images):
        queries["label"] = label_queries(images)
    queries = {kind: {w: r for w, r in found.items() if words.has(w)} for kind, found in queries.items() if found}

    def scores(word: str, use: frozenset[str]) -> np.ndarray:
        evidence = word_evidence(word, senses, use=use)
        cosine = vectors @ words.vector(word)
        weights = class_weights([(1.0, np.array(evidence.classes, np.int64), np.array(evidence.weights, np.float32))])
        mass = weights.mass(*kept) if weights else np.zeros(len(images), np.float32)
        if evidence.people is not None and signals is not None:
            column = evidence.people.column
            values = np.array([getattr(s, {"people_count": "people"}.get(column, column)) for s in signals], np.float32)
            mass = mass + evidence.people.weight * strength(column, values)
        return cosine + BETA * mass

    print(f"{args.dataset.name}: {len(images)} images; " + ", ".join(f"{len(q)} {k} words" for k, q in queries.items()))
    print("\n| words reach | " + " | ".join(f"{k} P@1 | {k} AP" for k in queries) + " |")
    print("|---|" + "---:|---:|" * len(queries))
    per_word = {}
    for name, use in STEPS:
        cells = []
        for kind, found in queries.items():
            results = {w: average_precision(scores(w, use), r) for w, r in found.items()}
            per_word[(kind, name)] = results
            p1, ap = np.mean(list(results.values()), axis=0)
            cells.append(f"{p1:.3f} | {ap:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    first, last = STEPS[0][0], STEPS[-1][0]
    for kind in queries:
        changed = [(w, per_word[(kind, first)][w][1], per_word[(kind, last)][w][1]) for w in queries[kind]
                   if abs(per_word[(kind, first)][w][1] - per_word[(kind, last)][w][1]) > 1e-6]
        if changed:
            print(f"\n{kind} words whose AP moved (before -> after): " +
                  ", ".join(f"{w} {a:.2f}->{b:.2f}" for w, a, b in changed))


if __name__ == "__main__":
    main()
