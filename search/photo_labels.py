"""`devsearch labels PHOTO`: what the model sees in a photo, from the store when it holds that very
photo (same content hash) with its kept top classes, so no network is loaded; else from the network.

The store is only a shortcut here: when there is none at --home, or it cannot be read, or it was
indexed with another model than --model, or it keeps fewer classes than asked for, the network answers.
"""
from __future__ import annotations

from pathlib import Path

from devsearch.core.errors import DevsearchError
from devsearch.core.settings import Settings
from devsearch.model.image_labels import describe_image, description
from devsearch.model.manifest import read_manifest
from devsearch.model.resolver import resolve_model
from devsearch.store.catalog import Store
from devsearch.store.hashing import content_hash


def labels_of(image: Path, settings: Settings, top: int = 5) -> dict:
    """model.image_labels.describe_image's answer, from the store's kept classes when it can."""
    kept = _from_store(Path(image), settings, top)
    return kept if kept is not None else describe_image(image, settings, top=top)  # its errors name the photo


def _from_store(path: Path, settings: Settings, top: int) -> dict | None:
    try:
        store = Store.open(settings.home)
    except DevsearchError:  # no store there, or none this command may read: the network answers
        return None
    with store:
        bound = store.model_manifest()
        if bound is None or (settings.model is not None and read_manifest(settings.model).fingerprint != bound.fingerprint):
            return None
        try:
            digest = content_hash(path)
        except (OSError, DevsearchError):  # not a readable file: describe_image says what is wrong
            return None
        for record in store.find_by_hash(digest):
            classes = store.top_classes_of([record.id]).get(record.id) if record.status == "indexed" else None
            if classes is not None and len(classes.ids) >= top:
                return description(path, classes.ids[:top], classes.probabilities[:top], store.vector_of(record.id),
                                   resolve_model(settings, bound).words)
    return None
