"""The visual backbones a DeViSE model can stand on, behind one loader.

Each backbone is a Keras model taking uint8 (N, 224, 224, 3) RGB and returning
[feature map (N, 7, 7, C) float32, ImageNet probabilities (N, 1000)]. Keras is imported only when a
backbone is loaded, so BACKBONES can be listed (e.g. in CLI help) without importing TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devsearch.core.errors import UsageError

if TYPE_CHECKING:
    import keras

BACKBONES = ("efficientnet-lite0", "resnet50")


@dataclass
class Backbone:
    name: str
    model: keras.Model  # uint8 (None,224,224,3) -> [feature map (None,7,7,C), probabilities (None,1000)]
    weights_digest: str  # sha256 hex of the weights file actually loaded


def load_backbone(name: str, cache: Path) -> Backbone:
    """Load a backbone with its ImageNet weights; EfficientNet-Lite0 is converted once into cache/backbones."""
    if name == "efficientnet-lite0":
        from devsearch.model.efficientnet_lite import load_efficientnet_lite0

        loaded = load_efficientnet_lite0(Path(cache))
        return Backbone(name, loaded.model, loaded.weights_sha256)
    if name == "resnet50":
        from devsearch.model.efficientnet_lite import sha256_file
        from devsearch.model.resnet import build_resnet50, keras_weights_path

        model = build_resnet50("imagenet")
        return Backbone(name, model, sha256_file(keras_weights_path()))
    raise UsageError(f"unknown backbone {name!r}: choose one of {', '.join(BACKBONES)}")
