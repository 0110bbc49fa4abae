"""A model bundle's manifest: what an embedding space is made of, as one typed, frozen value.

Its JSON form (`manifest.json` in a bundle, `model.json` in a store) carries a format number;
`from_json` reads every format this devsearch knows and `to_json` writes the current one. Plain
Python only (no Keras, no word vectors): the store and the query path read manifests.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from core.errors import UsageError
from core.files import write_atomically

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
READABLE_FORMATS = (1,)
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
    path: Path | None = field(default=None, compare=False)  # the bundle folder it was read from; never in a bundle

    def to_json(self, *, with_path: bool = False) -> dict:
        """The current JSON form; unset optional parts are left out (a store also keeps the path)."""
        data = {key: value for key, value in asdict(self).items() if value is not None and key != "path"}
        if self.head_input_shape is not None:
            data["head_input_shape"] = list(self.head_input_shape)
        data["format"] = FORMAT_VERSION
        if with_path and self.path is not None:
            data["path"] = str(self.path)
        return data

    @classmethod
    def from_json(cls, data: object) -> "Manifest":
        """Read any known format; ManifestError says what is wrong."""
        if not isinstance(data, dict):
            raise ManifestError("not a JSON object")
        if data.get("format") not in READABLE_FORMATS:
            raise ManifestError(f"bundle format {data.get('format')!r}; this devsearch reads format {FORMAT_VERSION}")
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        missing = sorted(f.name for f in fields(cls) if f.name in _REQUIRED and f.name not in values)
        if missing:
            raise ManifestError(f"missing {', '.join(missing)}")
        if values.get("head_input_shape") is not None:
            values["head_input_shape"] = tuple(int(n) for n in values["head_input_shape"])
        if values.get("path") is not None:
            values["path"] = Path(values["path"])
        return cls(**{**values, "dims": int(values["dims"])})

    def at(self, folder: Path) -> "Manifest":
        """The same manifest, as found in folder."""
        return replace(self, path=Path(folder).resolve())


_REQUIRED = ("backbone", "head", "words", "words_name", "dims", "labels", "fingerprint")


def fingerprint(manifest: Manifest, digests: dict[str, str]) -> str:
    """A stable name for an embedding space: readable prefix, then a hash over every part's digest."""
    payload = json.dumps(digests, sort_keys=True).encode()
    return f"{manifest.backbone}+{manifest.head}+{manifest.words_name}:{hashlib.sha256(payload).hexdigest()[:16]}"


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
