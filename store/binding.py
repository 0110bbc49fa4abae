"""The model a store is bound to (model.json in its home): vectors of two models are not comparable."""
from __future__ import annotations

import json
from pathlib import Path

from devsearch.core.errors import ModelMismatchError, StoreError
from devsearch.core.files import read_regular_text, write_atomically
from devsearch.model.manifest import Manifest, ManifestError

MODEL_FILE = "model.json"


class ModelBinding:
    """Reads the bound manifest once; binds and forgets it for the writer."""

    def __init__(self, home: Path):
        self.home = home
        self._manifest: Manifest | None = None

    def manifest(self) -> Manifest | None:
        """The manifest the store is bound to, None before the first index."""
        if self._manifest is None:
            path = self.home / MODEL_FILE
            try:
                self._manifest = Manifest.from_json(json.loads(read_regular_text(path)))
            except FileNotFoundError:
                return None
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise StoreError(f"cannot read {path} ({exc}): run `devsearch index --rebuild PATH`") from None
            except ManifestError as exc:
                raise StoreError(f"{path} is not a model manifest ({exc}): "
                                 "run `devsearch index --rebuild PATH` to index again with a model") from None
        return self._manifest

    def check(self, fingerprint: str) -> None:
        """Refuse to mix embedding spaces."""
        bound = self.manifest()
        if bound is not None and bound.fingerprint != fingerprint:
            raise ModelMismatchError(
                f"the store in {self.home} was built with model {bound.fingerprint}, not {fingerprint}: "
                "run `devsearch index --rebuild PATH` to re-index with this model, or use another --home"
            )

    def bind(self, manifest: Manifest) -> None:
        """Bind an empty store to a model (model.json, written atomically, with the bundle's folder)."""
        text = json.dumps(manifest.to_json(with_path=True), indent=2, sort_keys=True)
        write_atomically(self.home / MODEL_FILE, lambda tmp: Path(tmp).write_text(text))
        self._manifest = manifest

    def forget(self) -> None:
        (self.home / MODEL_FILE).unlink(missing_ok=True)
        self._manifest = None
