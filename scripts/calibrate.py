"""Refit the score calibration (model/data/calibration.json) on the development data.

For every labelled image of the dev datasets and every query word of its dataset (head words,
category words, the people set's labels), "this photo shows this word" is true when the word is the
image's head or one of its category or alternative labels, or when a noun sense of the word is at or
above the image's label in WordNet (a toucan shows a bird). The raw parts of each (word, photo) pair
are what a query computes (model/calibration.py): the cosine of the photo's vector (with the person
component the store adds) to the word's, the mass of the classes the word reaches in the photo's
kept top classes (model/word_evidence.py), and the people detectors' signal for a word about people
(model/people.py; the detectors run on every dev photo, cached). A query ranks by cosine + BETA x
(mass + people) (BETA chosen for AP by scripts/tune_ranking.py; the likelihood's own mix ranks
worse, printed for the record), so a logistic regression of the truth on that rank score gives the
`words` fit (words that reach classes or a people signal), and on the cosine the `words_no_class`
fit (words that reach neither). The
`similar` fit is a logistic regression on pairs of photos (true: the same head word or the same
finest category, i.e. the same kind of thing) of their cosine and the cosine of their class
probabilities (the mass a photo term gives, model/ranking.py): ConSE vectors crowd together (half
the dev pairs have a cosine above 0.5), the classes tell them apart. `similar_no_class` is the same
on the cosine alone (a store that keeps no classes). Tuxpaint-objects and people-dev (both photos
and drawings of real things) are fitted on; the emoji (cartoons) are a check.

Figures are cross-validated by word (five folds, each word's pairs scored by a fit made without it):
log loss, Brier score, expected calibration error, and the precision and recall of the match set at
each threshold. The threshold is the lowest whose pooled precision on the word pairs reaches
TARGET_PRECISION.

    python scripts/calibrate.py ../shared/datasets --people DIR [--write]

prints the figures; --write replaces the shipped file. DIR: people-dev with its photos (its fetch.sh).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devsearch.core.settings import Settings
from devsearch.model.calibration import DATA_FILE, KINDS, parse_calibration, word_kind
from devsearch.model.class_senses import load_class_senses
from devsearch.model.people import PERSON_WORD, strength, with_person
from devsearch.model.ranking import BETA, word_weights
from devsearch.model.word_evidence import word_evidence
from devsearch.model.resolver import resolve_model
from devsearch.store.kept_classes import TOP_K
from devsearch.model.conse import top_classes
from devsearch.training.datasets import read_dataset
from devsearch.training.features import image_features, progress_messages
from devsearch.training.word_retrieval import category_queries
from devsearch.wordspace.wordnet import load_wordnet

FIT = {"tuxpaint-objects": ()}  # and people-dev (--people): photos and drawings of real things
CHECK = {"emoji": ("style=fluent3d",)}  # cartoons: a check of the fit, not part of it (one style, the 3D renders)
TARGET_PRECISION = 0.8
L2 = 1e-2  # ridge on the weights (not the bias), in units of one pair
FOLDS = 5
OUT = Path(__file__).resolve().parents[1] / "model" / "data" / DATA_FILE
# What a word query adds to the cosine, part by part: its rank score is cosine + sum of weight x part.
# A new signal (a people detector, say) is a column of Pairs.parts and an entry here.
RANK_WEIGHTS = {"mass": BETA, "people": BETA}
WORD_KINDS = ("words", "words_backoff", "words_no_class")


@dataclass
class Evidence:
    """One dataset's images as the store keeps them, and what each shows."""

    name: str
    labels: list[str]
    heads: list[str]  # the head word (the label where there is no head column)
    groups: list[str]  # the finest category (the head where there is none)
    embeddings: np.ndarray  # (N, dims) unit, with the person component the store adds
    top_ids: np.ndarray  # (N, K)
    top_p: np.ndarray  # (N, K)
    people: dict[str, np.ndarray]  # people column (model/people.py) -> (N,) values
    shows: dict[str, np.ndarray]  # query word -> (N,) bool


def _words_of(text: str) -> list[str]:
    return [w.strip().lower() for w in text.replace(";", ",").split(",") if w.strip()]


def dataset_evidence(folder: Path, settings: Settings, model, where: tuple[str, ...] = ()) -> Evidence:
    dataset = read_dataset(folder, where)
    features = image_features([i.path for i in dataset.images], model.keras_bundle().backbone, settings.cache, "plain",
                              settings.batch_size, progress_messages(lambda m: print(m, file=sys.stderr), folder.name))
    rows = [r for r in range(len(dataset.images)) if r not in features.failed]
    images = [dataset.images[r] for r in rows]
    maps = np.asarray(features.maps[rows], dtype=np.float32)
    probabilities = np.asarray(features.probabilities[rows], dtype=np.float32)
    signals = people_signals(images, settings.cache)
    embeddings = with_person(model.keras_bundle().project(maps, probabilities), signals["person_score"],
                             model.words.vector(PERSON_WORD))
    ids, kept = top_classes(probabilities, TOP_K)
    wordnet = load_wordnet()
    heads = [i.fields.get("head", "").strip().lower() for i in images]
    extra = [set(_words_of(i.fields.get("alt_labels", ""))) | {i.label.lower()} for i in images]
    categories = category_queries(images) if any(i.fields.get("category") for i in images) else {}
    category_words = [{w for w, r in categories.items() if r[n]} for n in range(len(images))]
    ancestors = []
    for image, head in zip(images, heads):
        synset = wordnet.label_synset(image.label, head or None)
        ancestors.append(set(wordnet.hierarchy.ancestor_levels(synset)) if synset else set())
    words = sorted({h for h in heads if h} | set(categories) | set().union(*extra) if "alt_labels" in images[0].fields
                   else {h for h in heads if h} | set(categories))
    shows = {}
    for word in words:
        senses = set(wordnet.synsets(word))
        shows[word] = np.array([word == h or word in e or word in c or bool(senses & a)
                                for h, e, c, a in zip(heads, extra, category_words, ancestors)])
    return Evidence(folder.name, [i.label for i in images], [h or i.label for h, i in zip(heads, images)],
                    [i.fields.get("subcategory") or i.fields.get("category") or h or i.label for h, i in zip(heads, images)],
                    embeddings, ids, kept, signals, shows)


def people_signals(images, cache: Path) -> dict[str, np.ndarray]:
    """The people detectors' columns of each image (as the indexer keeps them), cached by the images' paths."""
    key = hashlib.sha256("\n".join(str(i.path) for i in images).encode()).hexdigest()[:20]
    path = cache / "calibration" / f"people-{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            return {column: saved[column] for column in saved.files}
    from devsearch.core.photo import decode_photo
    from devsearch.model.people_detectors import PeopleDetectors

    detectors = PeopleDetectors(cache)
    found = [detectors.signal(decode_photo(image.path, keep_whole=True).whole) for image in images]
    columns = {"person_score": np.array([f.person_score for f in found], np.float32),
               "people_count": np.array([f.people for f in found], np.float32),
               "face_share": np.array([f.face_share for f in found], np.float32)}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **columns)
    return columns


@dataclass
class Pairs:
    """(word, photo) pairs: their raw parts, truth, word and dataset."""

    cosine: np.ndarray
    mass: np.ndarray
    people: np.ndarray  # the people detectors' signal for the word (model/people.py), weighted
    truth: np.ndarray
    word: np.ndarray  # word id
    kind: np.ndarray  # the fit the word is scored by (model/calibration.word_kind)
    words: list[str]


def word_pairs(evidence: list[Evidence], lookup) -> Pairs:
    senses = load_class_senses()
    cos, mass, people, truth, word_id, kind, names = [], [], [], [], [], [], []
    for ev in evidence:
        for word, shows in ev.shows.items():
            if not lookup.has(word) or not shows.any():
                continue
            weights = word_weights(word, senses)
            evidence = word_evidence(word, senses)
            use = evidence.people
            cos.append(ev.embeddings @ lookup.vector(word))
            mass.append(weights.mass(ev.top_ids, ev.top_p) if weights else np.zeros(len(shows), np.float32))
            people.append(use.weight * strength(use.column, ev.people[use.column]) if use is not None
                          else np.zeros(len(shows), np.float32))
            truth.append(shows)
            word_id.append(np.full(len(shows), len(names)))
            kind.append(np.full(len(shows), word_kind(evidence)))
            names.append(f"{ev.name}:{word}")
    return Pairs(*(np.concatenate(x) for x in (cos, mass, people, truth, word_id, kind)), names)


def fit_logistic(features: np.ndarray, truth: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression (Newton's method, a small ridge on the weights)."""
    x = np.hstack([features.astype(np.float64), np.ones((len(features), 1))])
    y = truth.astype(np.float64)
    beta = np.zeros(x.shape[1])
    ridge = np.full(x.shape[1], l2)
    ridge[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -40, 40)))
        gradient = x.T @ (p - y) + ridge * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def _probability(features: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(features @ weights + bias, -40, 40)))


def quality(p: np.ndarray, truth: np.ndarray) -> dict:
    """Log loss, Brier score and expected calibration error (10 equal-count bins of p)."""
    eps = 1e-9
    order = np.argsort(p)
    bins = np.array_split(order, 10)
    ece = sum(len(b) * abs(p[b].mean() - truth[b].mean()) for b in bins if len(b)) / len(p)
    return {"log_loss": float(-np.mean(truth * np.log(p + eps) + (1 - truth) * np.log(1 - p + eps))),
            "brier": float(np.mean((p - truth) ** 2)), "ece": float(ece), "pairs": int(len(p)),
            "positives": int(truth.sum())}


def match_set(p: np.ndarray, truth: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of the pairs at or above the threshold."""
    chosen = p >= threshold
    precision = float(truth[chosen].mean()) if chosen.any() else float("nan")
    return precision, float(truth[chosen].sum() / max(truth.sum(), 1))


def ranking_figures(p: np.ndarray, pairs: Pairs) -> dict:
    """Mean P@1 and AP over the words (each ranking its own dataset's photos by p)."""
    p1, ap = [], []
    for w in np.unique(pairs.word):
        rows = pairs.word == w
        ranked = pairs.truth[rows][np.argsort(-p[rows], kind="stable")]
        hits = np.flatnonzero(ranked) + 1
        p1.append(float(ranked[0]))
        ap.append(float(np.mean(np.arange(1, len(hits) + 1) / hits)))
    return {"p@1": float(np.mean(p1)), "ap": float(np.mean(ap)), "words": len(p1)}


def rank_score(pairs: Pairs) -> np.ndarray:
    """What a query ranks by: cosine + the RANK_WEIGHTS of its parts (mass: BETA, chosen for AP by
    scripts/tune_ranking.py)."""
    return pairs.cosine + sum(weight * getattr(pairs, part) for part, weight in RANK_WEIGHTS.items())


def cross_validated(pairs: Pairs, columns: np.ndarray) -> np.ndarray:
    """Each pair's probability from a fit on columns made without its word (words dealt into FOLDS
    folds), words with classes and words without fitted apart."""
    rng = np.random.default_rng(0)
    fold = rng.integers(0, FOLDS, len(pairs.words))[pairs.word]
    p = np.zeros(len(pairs.truth))
    for kind in WORD_KINDS:
        group = pairs.kind == kind
        x = columns[:, :1] if kind == "words_no_class" else columns
        for k in range(FOLDS):
            train, test = group & (fold != k), group & (fold == k)
            if test.any():
                weights, bias = fit_logistic(x[train], pairs.truth[train])
                p[test] = _probability(x[test], weights, bias)
    return p


def photo_pairs(evidence: list[Evidence]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of photos of a dataset: their cosine, the cosine of their class probabilities (the
    mass a photo term gives another photo), and whether they show the same kind of thing (the same
    head word, or the same finest category: two birds, two fruits)."""
    cos, class_cos, same = [], [], []
    for ev in evidence:
        n = len(ev.labels)
        dense = np.zeros((n, 1000), np.float32)
        np.put_along_axis(dense, ev.top_ids, ev.top_p, axis=1)
        dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-12)
        upper = np.triu_indices(n, 1)
        heads, groups = np.array(ev.heads), np.array(ev.groups)
        cos.append((ev.embeddings @ ev.embeddings.T)[upper])
        class_cos.append((dense @ dense.T)[upper])
        same.append((heads[upper[0]] == heads[upper[1]]) | (groups[upper[0]] == groups[upper[1]]))
    return np.concatenate(cos), np.concatenate(class_cos), np.concatenate(same)


def _subset(pairs: Pairs, dataset: str) -> tuple[np.ndarray, Pairs]:
    rows = np.array([name.startswith(dataset + ":") for name in pairs.words])[pairs.word]
    return rows, Pairs(pairs.cosine[rows], pairs.mass[rows], pairs.people[rows], pairs.truth[rows], pairs.word[rows],
                       pairs.kind[rows], pairs.words)


def _figures(p: np.ndarray, pairs: Pairs, threshold: float) -> dict:
    precision, recall = match_set(p, pairs.truth, threshold)
    return {**ranking_figures(p, pairs), "match_precision": precision, "match_recall": recall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, help="the folder holding the dev datasets (../shared/datasets)")
    parser.add_argument("--people", type=Path, required=True, help="people-dev with its images fetched (its fetch.sh)")
    parser.add_argument("--write", action="store_true", help=f"write {OUT}")
    args = parser.parse_args()
    settings = Settings()
    model = resolve_model(settings)
    folders = {args.datasets / name: where for name, where in FIT.items()}
    folders[args.people] = ()
    evidence = [dataset_evidence(folder, settings, model, where) for folder, where in folders.items()]
    pairs = word_pairs(evidence, model.words)
    check_folders = {args.datasets / name: where for name, where in CHECK.items()}
    check = word_pairs([dataset_evidence(f, settings, model, w) for f, w in check_folders.items()], model.words)

    fits, metrics = {}, {}
    ranked = rank_score(pairs)[:, None]
    cv = cross_validated(pairs, ranked)
    free = cross_validated(pairs, np.stack([pairs.cosine, pairs.mass, pairs.people], axis=1))
    for kind in WORD_KINDS:
        group = pairs.kind == kind
        covered = kind != "words_no_class"
        (slope,), bias = fit_logistic(ranked[group], pairs.truth[group])
        parts = RANK_WEIGHTS if covered else {}
        fits[kind] = {"weights": {"cosine": float(slope), **{part: float(slope * w) for part, w in parts.items()}},
                      "bias": bias}
        metrics[kind] = quality(cv[group], pairs.truth[group])
    cos, class_cos, same = photo_pairs(evidence)
    for kind, x in (("similar", np.stack([cos, class_cos], axis=1)), ("similar_no_class", cos[:, None])):
        weights, bias = fit_logistic(x, same)
        names = ("cosine", "mass")[: x.shape[1]]
        fits[kind] = {"weights": dict(zip(names, map(float, weights))), "bias": bias}
        metrics[kind] = quality(_probability(x, weights, bias), same)

    grid = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
    table = {t: match_set(cv, pairs.truth, t) for t in grid}
    threshold = next((t for t in grid if table[t][0] >= TARGET_PRECISION), 0.5)
    by_dataset = {}
    for ev in evidence:
        rows, sub = _subset(pairs, ev.name)
        by_dataset[ev.name] = _figures(cv[rows], sub, threshold)
    calibration = parse_calibration({"fits": fits, "threshold": threshold})
    checked = np.zeros(len(check.truth))
    for kind in WORD_KINDS:
        rows = check.kind == kind
        checked[rows] = calibration.fit(kind).probability(rank_score(check)[rows] if kind != "words_no_class"
                                                          else check.cosine[rows])
    by_dataset[f"check: {', '.join(' '.join((n, *w)) for n, w in CHECK.items())}"] = _figures(checked, check, threshold)
    likelihood_mix = {"ap_with_mass_weight_by_likelihood": ranking_figures(free, pairs)["ap"],
                      "ap_with_mass_weight_beta": ranking_figures(cv, pairs)["ap"]}

    for kind in KINDS:
        print(f"{kind}: {fits[kind]}  {metrics[kind]}")
    print(f"mass weight {BETA:g} (AP) against the likelihood's own mix: {likelihood_mix}")
    print("threshold  precision  recall (cross-validated word pairs)")
    for t in grid:
        print(f"  {t:.2f}  {table[t][0]:.3f}  {table[t][1]:.3f}")
    print(f"threshold {threshold} (lowest reaching precision {TARGET_PRECISION})")
    for name, figures in by_dataset.items():
        print(f"  {name}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
    data = {
        "fits": fits, "threshold": threshold,
        "target_precision": TARGET_PRECISION,
        "source": "scripts/calibrate.py",
        "date": dt.date.today().isoformat(),
        "datasets": [" ".join((f.name, *where)) for f, where in folders.items()],
        "model": model.manifest.fingerprint,
        "metrics": {**metrics, "threshold_table": {str(t): table[t] for t in grid},
                    "cross_validated_by_dataset": by_dataset, **likelihood_mix},
    }
    if args.write:
        OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
