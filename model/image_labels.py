"""What the model sees in one photo: the classifier's top classes (with their WordNet paths, which
are what general query words match through) and the embedding's nearest words.

The photo is decoded before the network is loaded, so a wrong path fails in a fraction of a second.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from devsearch.core.errors import ImageError
from devsearch.core.photo import decode_photo
from devsearch.core.settings import Settings
from devsearch.model.class_senses import load_class_senses
from devsearch.model.imagenet import imagenet_classes
from devsearch.model.resolver import resolve_model

if TYPE_CHECKING:
    from devsearch.model.resolver import Network
    from devsearch.wordspace.lookup import WordLookup

WORD_VOCAB_LIMIT = 100_000  # nearest words among the most frequent ones: rare tokens are mostly noise


def describe_image(image: Path, settings: Settings, top: int = 5, vocab_limit: int | None = WORD_VOCAB_LIMIT,
                   network: Network | None = None) -> dict:
    """`{"image", "imagenet": [{"label", "wnid", "score", "path"}], "words": [{"word", "score"}]}` for one
    photo, from the network; path: the class and its first hypernyms, e.g. ["toucan", "piciform bird", "bird", ...].

    network: an already loaded one (a long-lived server keeps one); else the settings' model's is loaded.
    """
    try:
        photo = decode_photo(image)
    except ImageError as err:
        raise ImageError(f"{image}: {err}") from None
    network = network or resolve_model(settings).network()
    embeddings, probabilities = network.embed_and_classify(photo.pixels[None])
    best = np.argsort(-probabilities[0])[:top]
    return description(image, best, probabilities[0, best], embeddings[0], network.words, vocab_limit)


def description(image: Path, class_ids: np.ndarray, scores: np.ndarray, embedding: np.ndarray, words: WordLookup,
                vocab_limit: int | None = WORD_VOCAB_LIMIT) -> dict:
    """describe_image's answer from a photo's top classes (best first) and its embedding, wherever
    they come from (the network, or what a store keeps of an indexed photo)."""
    classes = imagenet_classes()
    senses = load_class_senses()
    return {
        "image": str(Path(image)),
        "imagenet": [
            {"label": classes[i].names[0], "wnid": classes[i].wnid, "score": round(float(score), 6),
             "path": senses.path(int(i))}
            for i, score in zip(class_ids, scores)
        ],
        "words": [
            {"word": word, "score": round(float(score), 6)}
            for word, score in words.nearest(embedding, len(class_ids), restrict=vocab_limit)
        ],
    }


def print_description(description: dict) -> None:
    """The two tables of `devsearch labels`: ImageNet classes (with their WordNet paths), then the nearest words."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for title, rows, key in (("ImageNet classes", description["imagenet"], "label"),
                             ("Nearest words (DeViSE guesses)", description["words"], "word")):
        table = Table(title=title, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column(key)
        table.add_column("score", justify="right")
        if key == "label":
            table.add_column("WordNet path")
        for rank, row in enumerate(rows, 1):
            path = [" < ".join(row["path"])] if key == "label" else []
            table.add_row(str(rank), row[key], f"{row['score']:.3f}", *path)
        console.print(table)
