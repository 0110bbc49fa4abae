"""What the model sees in one photo: the classifier's top classes and the embedding's nearest words."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.photo import decode_photo
from core.settings import Settings
from model.backend import load_network
from model.imagenet import imagenet_classes


def describe_image(image: Path, settings: Settings, top: int = 5, vocab_limit: int | None = None) -> dict:
    """`{"image", "imagenet": [{"label", "wnid", "score"}], "words": [{"word", "score"}]}` for one photo."""
    photo = decode_photo(image)
    bundle = load_network(settings)
    embeddings, probabilities = bundle.embed_and_classify(photo.pixels[None])
    classes = imagenet_classes()
    best = np.argsort(-probabilities[0])[:top]
    return {
        "image": str(Path(image)),
        "imagenet": [
            {"label": classes[i].names[0], "wnid": classes[i].wnid, "score": round(float(probabilities[0, i]), 6)}
            for i in best
        ],
        "words": [
            {"word": word, "score": round(float(score), 6)}
            for word, score in bundle.words.nearest(embeddings[0], top, restrict=vocab_limit)
        ],
    }
