"""Backbone outputs of a list of images, computed once and cached.

Training the head for tens of epochs, and evaluating several models on the same images, would
otherwise run the CNN again each time (≈50 images/s on 2 CPU cores). The cache holds, per
(backbone weights, image list, view): the 7x7 feature maps as float16 (the head's input; half
precision is plenty for a head trained with dropout) and the ImageNet probabilities (for ConSE).

    cache/features/<key>.maps.npy    float16 (N, 7, 7, C)
    cache/features/<key>.probs.npy   float32 (N, 1000)
    cache/features/<key>.json        which rows failed to decode and why; written last, so its
                                     presence means the arrays are complete

Views are optional augmentations: "flip" (mirror left-right) and "crop" (the centre 80%, enlarged).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from devsearch.core.errors import ImageError, UsageError
from devsearch.model.backbones import Backbone
from devsearch.training.datasets import LabelledImage, read_dataset
from devsearch.core.photo import INPUT_SIZE, decode_photo

VIEWS = ("plain", "flip", "crop")
CROP_FRACTION = 0.8
FORMAT = 1

Progress = Callable[[int, int], None]


@dataclass
class FeatureSet:
    maps: np.ndarray  # float16 (N, 7, 7, C), zeros where the image failed
    probabilities: np.ndarray  # float32 (N, 1000)
    failed: dict[int, str]  # row -> why the image could not be decoded


def progress_messages(say: Callable[[str], None], what: str, steps: int = 10) -> Progress:
    """A progress callback that says "what: done/total" about `steps` times in all."""
    said = set()

    def report(done: int, total: int) -> None:
        step = done * steps // max(total, 1)
        if step not in said:
            said.add(step)
            say(f"{what}: {done}/{total}")

    return report


def view_pixels(pixels: np.ndarray, view: str) -> np.ndarray:
    """One augmentation view of a uint8 (224, 224, 3) image."""
    if view == "plain":
        return pixels
    if view == "flip":
        return np.ascontiguousarray(pixels[:, ::-1])
    if view == "crop":
        margin = round(INPUT_SIZE * (1 - CROP_FRACTION) / 2)
        crop = Image.fromarray(pixels[margin:INPUT_SIZE - margin, margin:INPUT_SIZE - margin])
        return np.asarray(crop.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR), dtype=np.uint8)
    raise UsageError(f"unknown augmentation view {view!r}: choose from {', '.join(VIEWS[1:])}")


def cache_key(paths: Sequence[Path], backbone: Backbone, view: str) -> str:
    """Changes when the weights, the view, or any image (path, size, modification time) changes."""
    sha = hashlib.sha256(f"{FORMAT}\0{backbone.name}\0{backbone.weights_digest}\0{view}".encode())
    for path in paths:
        stat = Path(path).stat()
        sha.update(f"\0{Path(path).resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return f"{backbone.name}-{view}-{sha.hexdigest()[:20]}"


def image_features(paths: Sequence[Path], backbone: Backbone, cache: Path, view: str = "plain",
                   batch_size: int = 32, progress: Progress | None = None) -> FeatureSet:
    """The backbone's outputs for each image, from the cache or computed (and cached) now."""
    view_pixels(np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8), view)  # reject unknown views early
    folder = Path(cache) / "features"
    key = cache_key(paths, backbone, view)
    info = folder / f"{key}.json"
    if not info.is_file():
        _compute(paths, backbone, folder, key, view, batch_size, progress)
    failed = {int(row): reason for row, reason in json.loads(info.read_text())["failed"].items()}
    return FeatureSet(
        np.load(folder / f"{key}.maps.npy", mmap_mode="r", allow_pickle=False),
        np.load(folder / f"{key}.probs.npy", mmap_mode="r", allow_pickle=False),
        failed,
    )


def dataset_features(images: Sequence[LabelledImage], backbone: Backbone, cache: Path, view: str = "plain",
                     batch_size: int = 32, say: Callable[[str], None] = lambda _: None) -> FeatureSet:
    """Features of some images of datasets, rows in the order given.

    They are computed and cached for each whole dataset folder, so every subset of it (a --where
    filter, a held-out split, training vs evaluation) reuses the same cache.
    """
    maps = probabilities = None
    failed: dict[int, str] = {}
    for root in dict.fromkeys(image.root for image in images):
        everything = [image.path for image in read_dataset(root).images]
        features = image_features(everything, backbone, cache, view, batch_size,
                                  progress_messages(say, f"features of {root.name} ({view})"))
        row_of = {path: row for row, path in enumerate(everything)}
        mine = [i for i, image in enumerate(images) if image.root == root]
        rows = [row_of[images[i].path] for i in mine]
        if maps is None:
            maps = np.zeros((len(images), *features.maps.shape[1:]), np.float16)
            probabilities = np.zeros((len(images), features.probabilities.shape[1]), np.float32)
        maps[mine] = features.maps[rows]
        probabilities[mine] = features.probabilities[rows]
        failed.update({i: features.failed[row] for i, row in zip(mine, rows) if row in features.failed})
    return FeatureSet(maps, probabilities, failed)


def _compute(paths: Sequence[Path], backbone: Backbone, folder: Path, key: str, view: str,
             batch_size: int, progress: Progress | None) -> None:
    from devsearch.model.inference import Inference

    folder.mkdir(parents=True, exist_ok=True)
    infer = Inference(backbone.model)
    map_shape = tuple(int(d) for d in backbone.model.outputs[0].shape[1:])
    tmp = {name: folder / f".{key}.{os.getpid()}.{name}.npy" for name in ("maps", "probs")}
    maps = np.lib.format.open_memmap(tmp["maps"], mode="w+", dtype=np.float16, shape=(len(paths), *map_shape))
    probs = np.lib.format.open_memmap(tmp["probs"], mode="w+", dtype=np.float32, shape=(len(paths), 1000))
    failed: dict[str, str] = {}
    for start in range(0, len(paths), batch_size):
        rows, batch = [], []
        for row in range(start, min(start + batch_size, len(paths))):
            try:
                batch.append(view_pixels(decode_photo(paths[row]).pixels, view))
                rows.append(row)
            except ImageError as exc:
                failed[str(row)] = str(exc)
        if batch:
            feature_map, probabilities = infer(np.stack(batch))
            maps[rows] = feature_map.astype(np.float16)
            probs[rows] = probabilities
        if progress is not None:
            progress(min(start + batch_size, len(paths)), len(paths))
    maps.flush()
    probs.flush()
    del maps, probs
    for name, path in tmp.items():
        os.replace(path, folder / f"{key}.{name}.npy")
    info_tmp = folder / f".{key}.{os.getpid()}.json"
    info_tmp.write_text(json.dumps({"failed": failed, "count": len(paths), "view": view}))
    os.replace(info_tmp, folder / f"{key}.json")
