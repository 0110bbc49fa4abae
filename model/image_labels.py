"""What the model sees in one photo: the classifier's top classes (with their WordNet paths, which
are what general query words match through) and the embedding's nearest words."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.settings import Settings
from model.class_senses import load_class_senses
from model.imagenet import imagenet_classes
from model.resolver import resolve_model
from core.photo import decode_photo


def describe_image(image: Path, settings: Settings, top: int = 5, vocab_limit: int | None = None) -> dict:
    """`{"image", "imagenet": [{"label", "wnid", "score", "path"}], "words": [{"word", "score"}]}` for one
    photo; path: the class and its first hypernyms, e.g. ["toucan", "piciform bird", "bird", ...]."""
    photo = decode_photo(image)
    bundle = resolve_model(settings).network()
    embeddings, probabilities = bundle.embed_and_classify(photo.pixels[None])
    classes = imagenet_classes()
    senses = load_class_senses()
    best = np.argsort(-probabilities[0])[:top]
    return {
        "image": str(Path(image)),
        "imagenet": [
            {"label": classes[i].names[0], "wnid": classes[i].wnid, "score": round(float(probabilities[0, i]), 6),
             "path": senses.path(int(i))}
            for i in best
        ],
        "words": [
            {"word": word, "score": round(float(score), 6)}
            for word, score in bundle.words.nearest(embeddings[0], top, restrict=vocab_limit)
        ],
    }
