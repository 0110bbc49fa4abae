"""The default bundle's classifier outputs on a development dataset, as the tuning scripts read them.

Backbone features are cached as for `devsearch eval`; images that fail to decode are left out.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsearch.core.settings import Settings  # noqa: E402
from devsearch.model.backbones import load_backbone  # noqa: E402
from devsearch.model.class_senses import ClassSenses, load_class_senses  # noqa: E402
from devsearch.model.manifest import DEFAULT_BACKBONE, DEFAULT_WORDS  # noqa: E402
from devsearch.training.datasets import LabelledImage, read_dataset  # noqa: E402
from devsearch.training.features import dataset_features  # noqa: E402
from devsearch.wordspace.lookup import WordLookup  # noqa: E402
from devsearch.wordspace.sources import open_words  # noqa: E402


@dataclass
class DevOutputs:
    images: list[LabelledImage]  # the dataset's images that decoded
    probabilities: np.ndarray  # (N, classes) float32, one row per image
    words: WordLookup  # the default word space
    senses: ClassSenses  # ImageNet class senses


def dev_outputs(dataset: Path, where: list[str], settings: Settings) -> DevOutputs:
    """Read DATASET (filtered by --where COLUMN=VALUE) and classify every image with the default backbone."""
    found = read_dataset(dataset, where)
    features = dataset_features(found.images, load_backbone(DEFAULT_BACKBONE, settings.cache), settings.cache,
                                "plain", settings.batch_size, lambda message: print(message, file=sys.stderr))
    rows = [row for row in range(len(found.images)) if row not in features.failed]
    return DevOutputs([found.images[row] for row in rows],
                      np.asarray(features.probabilities[rows], dtype=np.float32),
                      open_words(DEFAULT_WORDS, settings.cache), load_class_senses())
