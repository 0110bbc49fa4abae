"""Model bundle manifests: read, write and fingerprint them without TensorFlow.

The query path needs only this and the word lookup, so it must stay free of keras/tensorflow/gensim.
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

from core.errors import UsageError
from core.files import write_atomically
from core.settings import Settings
from wordspace.lookup import WordLookup
from wordspace.sources import open_words

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
DEFAULT_WORDS = "glove-6b-50d"
DEFAULT_BACKBONE = "efficientnet-lite0"
BUNDLED_WORDS_DIR = "words"  # a bundle's own copy of a user's word space


def fingerprint(manifest: dict, digests: dict[str, str]) -> str:
    """A stable name for an embedding space: readable prefix, then a hash over every part's digest."""
    payload = json.dumps(digests, sort_keys=True).encode()
    return f"{manifest['backbone']}+{manifest['head']}+{manifest['words_name']}:{hashlib.sha256(payload).hexdigest()[:16]}"


def read_manifest(model_dir: Path) -> dict:
    """The manifest of the bundle in model_dir, with "path" set to where it was found."""
    path = Path(model_dir) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{model_dir} is not a model bundle (no {MANIFEST_FILE}): pass a folder made by `devsearch train`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the model manifest {path}: {exc}") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise UsageError(f"{path} has bundle format {manifest.get('format')!r}; this devsearch reads format {FORMAT_VERSION}")
    manifest["path"] = str(Path(model_dir).resolve())
    return manifest


def write_manifest(model_dir: Path, manifest: dict) -> None:
    """Write atomically; "path" is where a bundle was loaded from, so it is never stored."""
    stored = {k: v for k, v in manifest.items() if k != "path"}
    model_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(model_dir / MANIFEST_FILE,  # readable by all: a bundle is meant to be shared
                     lambda tmp: Path(tmp).write_text(json.dumps(stored, indent=2, sort_keys=True)), mode=0o644)


def packaged_model_dir() -> Path | None:
    """The trained bundle shipped inside the package, when there is one."""
    folder = Path(str(resources.files("model") / "default_model"))
    return folder if (folder / MANIFEST_FILE).is_file() else None


def conse_model_dir(settings: Settings) -> Path:
    """Where the training-free default (EfficientNet-Lite0 + ConSE + GloVe-50d) is materialised."""
    return settings.cache / "models" / "efficientnet-lite0-conse-glove-6b-50d"


def open_words_for(manifest: dict, settings: Settings) -> WordLookup:
    """The word space a bundle (or a store bound to it) uses: its own copy, or a named/shared source."""
    source = manifest["words"]
    if source == BUNDLED_WORDS_DIR:
        return WordLookup.open(Path(manifest["path"]) / BUNDLED_WORDS_DIR)
    return open_words(source, settings.cache)
