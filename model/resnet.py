"""ResNet-50 from keras.applications, the backbone of the original DeViSE seed, as an option.

Keras downloads its ImageNet weights on first use into $KERAS_HOME/models (default ~/.keras/models).
When that file is already there we hand its path to Keras, so nothing touches the network; when it
is not and the download fails (offline), the user gets one line naming the file and where to put it.
The model takes uint8 RGB and does Keras's "caffe" preprocessing inside (RGB -> BGR, minus the mean).
"""
from __future__ import annotations

import os
from pathlib import Path

import keras

from devsearch.core.errors import AssetMissingError

NAME = "resnet50"
INPUT_SHAPE = (224, 224, 3)
WEIGHTS_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
FEATURE_LAYER = "conv5_block3_out"
MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="devsearch")
class CaffePreprocess(keras.layers.Layer):
    """uint8 RGB -> float32 BGR minus the ImageNet mean, as keras.applications.resnet50.preprocess_input."""

    def call(self, images):
        bgr = keras.ops.flip(keras.ops.cast(images, "float32"), axis=-1)
        return bgr - keras.ops.convert_to_tensor(MEAN_BGR, dtype="float32")


def keras_weights_path() -> Path:
    """Where keras.applications keeps the downloaded weights ($KERAS_HOME or ~/.keras, then models/)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models" / WEIGHTS_FILE


def build_resnet50(weights: str | Path | None = "imagenet") -> keras.Model:
    """uint8 image in; [feature map (7,7,2048), probabilities (1000)] out.

    weights: "imagenet" (the cached file, else a download), a path to an .h5 file, or None (random,
    for benchmarks)."""
    if weights == "imagenet" and keras_weights_path().is_file():
        weights = keras_weights_path()
    image = keras.Input(shape=INPUT_SHAPE, dtype="uint8", name="image")
    preprocessed = CaffePreprocess(name="caffe_preprocess")(image)
    try:
        base = keras.applications.ResNet50(
            weights=str(weights) if isinstance(weights, Path) else weights, input_tensor=preprocessed
        )
    except Exception:  # Keras reports a failed download as a bare Exception
        if weights != "imagenet":
            raise
        target = keras_weights_path()
        raise AssetMissingError(
            f"ResNet-50 ImageNet weights are not cached and could not be downloaded: put {WEIGHTS_FILE} "
            f"into {target.parent} ($KERAS_HOME/models, default ~/.keras/models)"
        ) from None
    return keras.Model(image, [base.get_layer(FEATURE_LAYER).output, base.output], name="resnet50")
