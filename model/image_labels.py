"""What the model sees in one photo: the classifier's top classes and the embedding's nearest words."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.settings import Settings
from model.imagenet import imagenet_classes
from model.resolver import resolve_model
from core.photo import decode_photo

if TYPE_CHECKING:
    from model.bundle import ModelBundle

WORD_VOCAB_LIMIT = 100_000  # nearest words among the most frequent ones: rare tokens are mostly noise


def describe_image(image: Path, settings: Settings, top: int = 5, vocab_limit: int | None = WORD_VOCAB_LIMIT,
                   bundle: ModelBundle | None = None) -> dict:
    """`{"image", "imagenet": [{"label", "wnid", "score"}], "words": [{"word", "score"}]}` for one photo.

    bundle: an already loaded model (a long-lived server keeps one); else the settings' is loaded.
    """
    photo = decode_photo(image)
    bundle = bundle or resolve_model(settings).network()
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
