"""`devsearch index` as one call: take the store's lock, settle the model, run the pipeline.

The model is loaded only when there is something to embed, so re-running on an unchanged tree
never imports TensorFlow; its manifest (plain JSON) is enough to check the store's binding.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import ModelMismatchError
from core.settings import Settings
from indexer.crawl import resolve_roots
from indexer.pipeline import RemoteEmbedding, run_index
from indexer.progress import Progress
from indexer.ray_cluster import require_ray
from indexer.summary import RunSummary
from store.catalog import Store


class LazyModel:
    """The bundle behind a manifest, loaded on the first embed call."""

    def __init__(self, settings: Settings, manifest: dict, bundle=None):
        self.settings = settings
        self.manifest = manifest
        self._bundle = bundle

    def embed(self, images: np.ndarray) -> np.ndarray:
        if self._bundle is None:
            from model.bundle import load_bundle

            bundle = load_bundle(self.settings, self.manifest)
            if bundle.fingerprint != self.manifest["fingerprint"]:
                raise ModelMismatchError(
                    f"the model found for this store is {bundle.fingerprint}, but the store was built with "
                    f"{self.manifest['fingerprint']}: run `devsearch index --rebuild PATH`, or pass its --model"
                )
            self._bundle = bundle
        return self._bundle.embed(images)


def _choose_model(store: Store, settings: Settings) -> LazyModel:
    """--model, else the model the store is bound to, else the default (which needs loading to know)."""
    if settings.model is not None:
        from model.manifest import read_manifest

        model = LazyModel(settings, read_manifest(Path(settings.model)))
    elif store.model_manifest() is not None:
        model = LazyModel(settings, store.model_manifest())
    else:
        from model.bundle import load_bundle

        bundle = load_bundle(settings)
        model = LazyModel(settings, bundle.manifest, bundle)
    store.check_model(model.manifest["fingerprint"])
    return model


def _on_ray(address: str, settings: Settings, manifest: dict) -> RemoteEmbedding:
    """Decoding and embedding on the Ray cluster at address; each actor loads the model itself."""
    from indexer.ray_runner import RayEmbedding

    return RayEmbedding(address, LazyModel(settings, manifest).embed, int(manifest["dims"]), settings.workers)


def index_paths(paths: list[Path], settings: Settings, *, rebuild: bool = False, follow_symlinks: bool = False,
                progress: Progress | None = None, ray: str | None = None) -> RunSummary:
    """Index the photos under paths into the store at settings.home (decoding and embedding on the Ray
    cluster at address ray when given: local, auto or ray://host:port)."""
    roots = resolve_roots(paths)
    if ray is not None:
        require_ray(ray)
    with Store.open(settings.home, writer=True) as store:
        if rebuild:
            store.reset()
        model = _choose_model(store, settings)
        return run_index(roots, store, model.embed, model.manifest, batch_size=settings.batch_size,
                         workers=settings.workers, follow_symlinks=follow_symlinks, progress=progress,
                         remote=None if ray is None else _on_ray(ray, settings, model.manifest))
