"""A model bundle's manifest: what an embedding space is made of, as one typed, frozen value.

Its JSON form (`manifest.json` in a bundle, `model.json` in a store) carries a format number;
`from_json` reads every format this devsearch knows and `to_json` writes a manifest in its own
format, so its fingerprint keeps meaning what it meant. Format 2 fingerprints name the backbone and
the projection (head + word space) separately, `efficientnet-lite0:<hash>/conse+glove-6b-50d:<hash>`:
a store whose photos' classifier outputs are kept can move to a new projection of the same
backbone without decoding them again. Plain numpy only (no Keras, no word vectors).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from devsearch.core.errors import UsageError
from devsearch.core.files import write_atomically

MANIFEST_FILE = "manifest.json"
LABEL_VECTORS = "label_vectors.npy"  # a ConSE bundle's class vectors
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
DEFAULT_WORDS = "glove-6b-50d"
DEFAULT_BACKBONE = "efficientnet-lite0"
BUNDLED_WORDS_DIR = "words"  # a bundle's own copy of a user's word space


class ManifestError(ValueError):
    """A manifest's JSON is not one this devsearch can read (the caller names the file and what to do)."""


@dataclass(frozen=True)
class Manifest:
    """One embedding space. `fingerprint` changes when any weight or the vocabulary changes."""

    backbone: str  # "efficientnet-lite0" | "resnet50"
    head: str  # "conse" | "devise"
    words: str  # a named word source ("glove-6b-50d") or BUNDLED_WORDS_DIR
    words_name: str  # the word space's short name, part of the fingerprint's readable prefix
    dims: int  # word-space dimensions
    labels: str  # "imagenet-1k" (ConSE) or "trained"
    fingerprint: str = ""  # empty only while a bundle is being assembled
    top_t: int | None = None  # ConSE: how many classes are mixed
    labels_without_vector: int | None = None  # ConSE: classes the word space has no vector for
    head_input_shape: tuple[int, ...] | None = None  # DeViSE: the backbone feature map the head takes
    loss: str | None = None  # DeViSE: "cosine" | "hinge"
    random_words: bool | None = None  # DeViSE: the random-embedding control
    class_vectors: str | None = None  # ConSE: how the class vectors were made, e.g. "hypernyms-2x1.0"
    format: int = FORMAT_VERSION
    path: Path | None = field(default=None, compare=False)  # the bundle folder it was read from; never in a bundle

    def to_json(self, *, with_path: bool = False) -> dict:
        """The current JSON form; unset optional parts are left out (a store also keeps the path)."""
        data = {key: value for key, value in asdict(self).items() if value is not None and key != "path"}
        if self.head_input_shape is not None:
            data["head_input_shape"] = list(self.head_input_shape)
        if with_path and self.path is not None:
            data["path"] = str(self.path)
        return data

    @classmethod
    def from_json(cls, data: object) -> "Manifest":
        """Read any known format; ManifestError says what is wrong."""
        if not isinstance(data, dict):
            raise ManifestError("not a JSON object")
        if data.get("format") not in READABLE_FORMATS:
            raise ManifestError(f"bundle format {data.get('format')!r}; this devsearch reads formats "
                                f"{', '.join(map(str, READABLE_FORMATS))}")
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        missing = sorted(f.name for f in fields(cls) if f.name in _REQUIRED and f.name not in values)
        if missing:
            raise ManifestError(f"missing {', '.join(missing)}")
        if not isinstance(values["fingerprint"], str) or type(values["dims"]) is not int or values["dims"] <= 0:
            raise ManifestError("it needs a text 'fingerprint' and positive whole 'dims'")
        if values.get("head_input_shape") is not None:
            values["head_input_shape"] = tuple(int(n) for n in values["head_input_shape"])
        if values.get("path") is not None:
            values["path"] = Path(values["path"])
        return cls(**{**values, "dims": int(values["dims"])})

    def at(self, folder: Path) -> "Manifest":
        """The same manifest, as found in folder."""
        return replace(self, path=Path(folder).resolve())

    @property
    def backbone_fingerprint(self) -> str | None:
        """The backbone's part of a format-2 fingerprint (None for format 1, which has no parts)."""
        return self.fingerprint.split("/")[0] if self.format >= 2 and "/" in self.fingerprint else None

    @property
    def projects_classes(self) -> bool:
        """Whether its vectors are a projection of the classifier's outputs (ConSE), which a store keeps."""
        return self.head == "conse" and self.backbone_fingerprint is not None


_REQUIRED = ("backbone", "head", "words", "words_name", "dims", "labels", "fingerprint")


def fingerprint(manifest: Manifest, digests: dict[str, str]) -> str:
    """A stable name for an embedding space from the digests of its backbone, head and words.

    Format 1: one readable prefix and one hash over all digests. Format 2: the backbone's name and
    hash, then "/", then the projection's (head and word space) name and hash.
    """
    if manifest.format == 1:
        return f"{manifest.backbone}+{manifest.head}+{manifest.words_name}:{_hash(digests)}"
    projection = {key: value for key, value in digests.items() if key != "backbone"}
    return f"{manifest.backbone}:{_hash({'backbone': digests['backbone']})}/{projection_fingerprint(manifest, projection)}"


def projection_fingerprint(manifest: Manifest, digests: dict[str, str]) -> str:
    """The projection's part of a format-2 fingerprint, from the head's and the words' digests."""
    return f"{manifest.head}+{manifest.words_name}:{_hash(digests)}"


def digest_arrays(arrays: list[np.ndarray]) -> str:
    """sha256 over the arrays' bytes: a weights digest for fingerprints."""
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()


def conse_digest(class_vectors: np.ndarray, top_t: int) -> str:
    """The digest of a ConSE head: its class vectors and T."""
    return digest_arrays([class_vectors, np.array([top_t])])


def _hash(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()[:16]


def read_manifest(model_dir: Path) -> Manifest:
    """The manifest of the bundle in model_dir, with its path set to that folder."""
    path = Path(model_dir) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{model_dir} is not a model bundle (no {MANIFEST_FILE}): pass a folder made by `devsearch train`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the model manifest {path}: {exc}") from None
    try:
        return Manifest.from_json(data).at(model_dir)
    except ManifestError as exc:
        raise UsageError(f"{path} is not a manifest this devsearch reads ({exc}): make the bundle again with `devsearch train`") from None


def write_manifest(model_dir: Path, manifest: Manifest) -> None:
    """Write atomically, without the path (a bundle folder can move)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest.to_json(), indent=2, sort_keys=True)
    write_atomically(model_dir / MANIFEST_FILE,  # readable by all: a bundle is meant to be shared
                     lambda tmp: Path(tmp).write_text(text), mode=0o644)
