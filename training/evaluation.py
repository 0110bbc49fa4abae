"""`devsearch eval`: a model and the paper's controls, measured on one labelled image set.

Every model ranks the dataset's labels for every image (cosine to the label's vector, or the
softmax's probability), then (training.metrics):
- flat hit@k (k = 1, 2, 5, 10, 20) over the dataset's label set;
- hierarchical precision@k (k = 2, 5, 10, 20) with the WordNet noun hierarchy (hp@1 = hit@1);
- zero-shot: the images of held-out labels, ranking only the held-out labels (as in the paper's
  zero-shot table, the training labels are not candidates);
- retrieval by word: each label as a query over all images, P@1, P@5 and average precision;
- retrieval by head word and by category word (training/word_retrieval.py), scored as `devsearch
  query` scores: P@1, P@5, P@10, average precision, and the precision and recall of the match set
  (the images scoring at least the calibrated match threshold); and a people check (`person`)
  where the dataset has a `people` column.
Images the model was trained on (by content) are left out, so a trained model is never scored on
its own training images. Features come from the same cache as training.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from devsearch.core.errors import UsageError
from devsearch.core.settings import Settings
from devsearch.training import metrics
from devsearch.training.datasets import file_digest, label_targets, read_dataset
from devsearch.training.features import dataset_features
from devsearch.model.calibration import load_calibration
from devsearch.model.people import PERSON_WORD, with_person
from devsearch.training.word_retrieval import (Ranker, category_queries, head_queries, meaning_ranker, people_queries,
                                               retrieval_metrics)
from devsearch.model.class_senses import load_class_senses
from devsearch.model.conse import imagenet_label_vectors, project_all
from devsearch.model.manifest import Manifest
from devsearch.model.resolver import resolve_model
from devsearch.training.fit import (Say, TrainSpec, fit_head, fit_softmax, load_training_set, random_label_vectors,
                             read_training)
from devsearch.wordspace.sources import open_words
from devsearch.wordspace.wordnet import load_wordnet

HIT_KS = (1, 2, 5, 10, 20)
HP_KS = (2, 5, 10, 20)
MODEL_NAMES = {
    "devise": "DeViSE",
    "random_devise": "random-embedding DeViSE",
    "softmax": "softmax baseline",
    "conse": "ConSE",
}


def evaluate(dataset_dir: Path, model_dir: Path | None, settings: Settings, *, where: Sequence[str] = (),
             holdout_labels: list[str] | None = None, baselines: bool = False, say: Say = lambda _: None) -> dict:
    """Metrics of the model (default: the built-in bundle) and, with baselines, the controls on the
    dataset; see the module doc."""
    dataset = read_dataset(dataset_dir, where)
    bundle = resolve_model(settings.with_options(model=model_dir)).keras_bundle()
    manifest = bundle.manifest
    model_dir = manifest.path
    training = read_training(model_dir)
    trained_on = set(training["image_digests"]) if training else set()
    images = [image for image in dataset.images if file_digest(image.path) not in trained_on]
    excluded = len(dataset.images) - len(images)
    if not images:
        raise UsageError(f"every image of {dataset_dir} was used to train {model_dir}: evaluate on other images")
    words = bundle.words
    labels, vectors, skipped = label_targets(dataset.labels, words)  # candidates: all, not just untrained images
    index = {label: i for i, label in enumerate(labels)}
    images = [image for image in images if image.label in index]
    features = dataset_features(images, bundle.backbone, settings.cache, "plain", settings.batch_size, say)
    usable = [row for row in range(len(images)) if row not in features.failed]
    if not usable:
        example = next(iter(features.failed.items()), None)
        raise UsageError(f"no image of {dataset_dir} can be evaluated"
                         + (f" (none could be decoded, e.g. {images[example[0]].path}: {example[1]})" if example else
                            " (none has a label the model's word space knows)") + ": give a dataset of labelled photos")
    maps = np.asarray(features.maps[usable], dtype=np.float32)
    probabilities = np.asarray(features.probabilities[usable], dtype=np.float32)
    true = np.array([index[images[row].label] for row in usable])
    holdout = holdout_labels if holdout_labels is not None else (training or {}).get("spec", {}).get("holdout_labels", [])
    zeroshot = [label for label in labels if label in set(holdout)]

    embeddings = bundle.project(maps, probabilities)
    people = None
    if any(images[row].fields.get("people") for row in usable):  # a people check: the detectors, as index runs them
        people = _people_signals([images[row].path for row in usable], settings.cache)
        embeddings = with_person(embeddings, people["person_score"], words.vector(PERSON_WORD))
    scores = {_model_key(manifest): metrics.cosine_scores(embeddings, vectors)}
    rankers = {_model_key(manifest): meaning_ranker(
        embeddings, words, probabilities if manifest.projects_classes else None, people=people)}
    if baselines:
        more_scores, more_rankers = _baselines(manifest, training, settings, labels, maps, probabilities, words, say)
        scores.update(more_scores)
        rankers.update(more_rankers)
    heads = {image.label: image.fields.get("head") or None for image in dataset.images}
    ancestors = _label_ancestors(labels, heads)
    evaluated = [images[row] for row in usable]
    queries = {kind: {w: r for w, r in found(evaluated).items() if words.has(w)}
               for kind, found in (("head", head_queries), ("category", category_queries), ("people", people_queries))}
    results = {name: model_metrics(s, true, ancestors, [index[z] for z in zeroshot]) for name, s in scores.items()}
    threshold = load_calibration().threshold
    for name, rank in rankers.items():
        calibrated = name == _model_key(manifest)  # the baselines' scores are not probabilities
        for kind, kind_queries in queries.items():
            if kind_queries:
                results[name].update(retrieval_metrics(rank, kind_queries, kind, threshold if calibrated else None))
    return {
        "dataset": str(dataset_dir),
        "where": list(where),
        "model": str(model_dir),
        "images": len(usable),
        "excluded_training_images": excluded,
        "failed_images": [f"{images[row].path}: {reason}" for row, reason in features.failed.items()],
        "labels": len(labels),
        "skipped_labels": skipped,
        "zeroshot_labels": zeroshot,
        "head_words": sorted(queries["head"]),
        "category_words": sorted(queries["category"]),
        "models": results,
    }


def _people_signals(paths: Sequence[Path], cache: Path) -> dict[str, np.ndarray]:
    """The people detectors' columns (model/people.py) of each photo, as `devsearch index` keeps them."""
    from devsearch.core.photo import decode_photo
    from devsearch.model.people_detectors import PeopleDetectors

    detectors = PeopleDetectors(cache)
    found = [detectors.signal(decode_photo(path, keep_whole=True).whole) for path in paths]
    return {"person_score": np.array([f.person_score for f in found], np.float32),
            "people_count": np.array([f.people for f in found], np.float32),
            "face_share": np.array([f.face_share for f in found], np.float32)}


def model_metrics(scores: np.ndarray, true: np.ndarray, ancestors: Sequence[dict | None],
                  zeroshot: Sequence[int]) -> dict[str, float]:
    """All measures for one model's (images x labels) scores; zero-shot ones only with zero-shot labels."""
    result = _ranking_metrics(scores, true, ancestors, "")
    keep = np.isin(true, zeroshot)
    if keep.any():
        position = {label: i for i, label in enumerate(zeroshot)}
        sub_true = np.array([position[t] for t in true[keep]], dtype=int)
        sub_scores = scores[keep][:, list(zeroshot)]
        result.update(_ranking_metrics(sub_scores, sub_true, [ancestors[z] for z in zeroshot], "zeroshot_"))
    result.update(metrics.retrieval_scores(scores, true))
    return result


def _ranking_metrics(scores: np.ndarray, true: np.ndarray, ancestors: Sequence[dict | None], prefix: str) -> dict:
    result = {f"{prefix}hit@{k}": metrics.flat_hit_at_k(scores, true, k) for k in HIT_KS}
    for k in HP_KS:
        valid = metrics.valid_label_sets(ancestors, k)
        result[f"{prefix}hp@{k}"] = metrics.hierarchical_precision_at_k(scores, true, valid, k)
    return result


def _label_ancestors(labels: Sequence[str], heads: dict[str, str | None]) -> list[dict | None]:
    wordnet = load_wordnet()
    result = []
    for label in labels:
        synset = wordnet.label_synset(label, heads.get(label))
        result.append(wordnet.hierarchy.ancestor_levels(synset) if synset else None)
    return result


def _model_key(manifest: Manifest) -> str:
    if manifest.head != "devise":
        return "conse"
    return "random_devise" if manifest.random_words else "devise"


def _baselines(manifest: Manifest, training: dict | None, settings: Settings, labels: list[str],
               maps: np.ndarray, probabilities: np.ndarray, words, say: Say) -> tuple[dict[str, np.ndarray], dict[str, Ranker]]:
    """ConSE, and (for a model trained here) the softmax and random-embedding controls on its training
    data: their (images x labels) scores and how each ranks images by a word."""
    scores, rankers = {}, {}
    if manifest.head == "devise":
        imagenet_vectors, _ = imagenet_label_vectors(words, load_class_senses())
        embeddings = project_all(probabilities, imagenet_vectors)
        scores["conse"] = metrics.cosine_scores(embeddings, label_targets(labels, words)[1])
        rankers["conse"] = meaning_ranker(embeddings, words, probabilities)
    if training is None:
        say("no training.json in the model folder: softmax and random-embedding baselines skipped")
        return scores, rankers
    spec = TrainSpec(**training["spec"])
    data = load_training_set(spec, settings, open_words(spec.words, settings.cache), say)
    softmax = fit_softmax(data, spec.epochs, spec.seed, say)
    known = {label: j for j, label in enumerate(data.labels)}
    with np.errstate(divide="ignore"):
        log_p = np.log(softmax.predict(maps, batch_size=256, verbose=0))
    scores["softmax"] = np.stack(
        [log_p[:, known[label]] if label in known else np.full(len(maps), -np.inf) for label in labels], axis=1)
    rankers["softmax"] = lambda word: log_p[:, known[word]] if word in known else None
    if not spec.random_words:
        dims = data.label_vectors.shape[1]
        random_data = replace(data, label_vectors=random_label_vectors(data.labels, dims))
        head, _ = fit_head(random_data, spec.loss, spec.epochs, spec.seed, say)
        embeddings = head.predict(maps, batch_size=256, verbose=0)
        scores["random_devise"] = metrics.cosine_scores(embeddings, random_label_vectors(labels, dims))
        rankers["random_devise"] = lambda word: metrics.cosine_scores(embeddings, random_label_vectors([word], dims))[:, 0]
    return scores, rankers


def markdown_table(result: dict) -> str:
    """The paper's Table 1 (flat hit@k, hierarchical precision@k), a second table for zero-shot and
    retrieval by label, and a third for retrieval by head and category words, in percent."""
    models = result["models"]
    first = ["hit@%d" % k for k in HIT_KS] + ["hp@%d" % k for k in HP_KS]
    second = [f"zeroshot_{c}" for c in ("hit@1", "hit@2", "hit@5", "hit@10", "hp@5")] + ["word_p@1", "word_p@5", "word_ap"]
    has_zeroshot = any("zeroshot_hit@1" in m for m in models.values())
    columns = second if has_zeroshot else second[-3:]
    third = [f"{kind}_{m}" for kind in ("head", "category", "people")
             for m in ("p@1", "p@5", "p@10", "ap", "match_precision", "match_recall")
             if any(f"{kind}_{m}" in values for values in models.values())]
    lines = [f"{result['images']} images, {result['labels']} labels"
             + (f", {len(result['zeroshot_labels'])} held out (zero-shot)" if has_zeroshot else "")
             + f", {len(result.get('head_words', []))} head words, {len(result.get('category_words', []))} category words", ""]
    for keys in (first, columns, third):
        if not keys:
            continue
        lines.append("| model | " + " | ".join(keys) + " |")
        lines.append("|---|" + "---:|" * len(keys))
        for name, values in models.items():
            cells = [f"{100 * values[k]:.1f}" if k in values and np.isfinite(values[k]) else "–" for k in keys]
            lines.append(f"| {MODEL_NAMES.get(name, name)} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
