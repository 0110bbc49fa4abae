"""`devsearch index` as one call: take the store's lock, settle the model, run the pipeline.

The model is loaded only when there is something to embed, so re-running on an unchanged tree
never imports TensorFlow; its manifest (plain JSON) is enough to check the store's binding.
A store may move to another model without --rebuild (model.resolver.can_move_to): to a new
projection of the same backbone (its photos are re-projected from their kept top classes, no
decoding), or, when it follows the built-in model, to the current one (photos without kept
classes are embedded again as they are met).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Optional

from devsearch.core.settings import Settings
from devsearch.indexer.crawl import resolve_roots
from devsearch.indexer.gpu_decode import GpuJpegDecoder
from devsearch.indexer.pipeline import IndexOptions, PeopleStep, RemoteEmbedding, run_index
from devsearch.indexer.progress import Progress
from devsearch.indexer.ray_cluster import require_ray
from devsearch.indexer.summary import RunSummary
from devsearch.model.manifest import Manifest
from devsearch.model.resolver import ResolvedModel, can_move_to, model_to_index_with
from devsearch.store.catalog import Store


def index_paths(paths: list[Path], settings: Settings, *, rebuild: bool = False, follow_symlinks: bool = False,
                progress: Progress | None = None, ray: str | None = None) -> RunSummary:
    """Index the photos under paths into the store at settings.home (decoding and embedding on the Ray
    cluster at address `ray` when given: local, auto or ray://host:port). The people detectors run
    here unless settings.people is off; not on Ray (those photos gain them at the next local run)."""
    with index_session(paths, settings, rebuild=rebuild, follow_symlinks=follow_symlinks, ray=ray) as session:
        return session.run(progress)


@dataclass(frozen=True)
class IndexSession:
    roots: list[str]  # resolved once: absolute, symlink-free, none inside another
    run: Callable[[Optional[Progress]], RunSummary]  # one pass over the roots


@contextmanager
def index_session(paths: list[Path], settings: Settings, *, rebuild: bool = False, follow_symlinks: bool = False,
                  ray: str | None = None) -> Iterator[IndexSession]:
    """The store open for writing and the model settled, for one pass over the roots or many: `index --watch`
    runs a pass on each change, so the network loads once and the writer lock is held throughout."""
    roots = resolve_roots(paths)
    if ray is not None:
        require_ray(ray, settings.decoder)
    jpeg_decoder = GpuJpegDecoder() if settings.decoder == "gpu" else None  # checks torchvision and CUDA
    with Store.open(settings.home, writer=True, set_aside_damaged=rebuild) as store:
        if rebuild:
            store.reset()
        bound = store.model_manifest()
        model = model_to_index_with(settings, bound)
        _move_if_allowed(store, bound, model, settings)
        options = IndexOptions.from_settings(
            settings, follow_symlinks=follow_symlinks, runtime=model.runtime, jpeg_decoder=jpeg_decoder,
            projection=model.projection() if model.manifest.projects_classes else None,
            remote=None if ray is None else on_ray(ray, settings, model.manifest),
            people=people_step(model) if settings.people and ray is None else None)
        embed = partial(model.embed_for_store, pad_to=settings.batch_size)

        def run(progress: Progress | None = None) -> RunSummary:
            return run_index(roots, store, embed, model.manifest, replace(options, progress=progress))

        yield IndexSession(roots, run)


def people_step(model: ResolvedModel) -> PeopleStep:
    """The people detectors (loaded when the first photo needs them) and `person` in the model's words."""
    from devsearch.model.people import PERSON_WORD
    from devsearch.model.people_detectors import PeopleDetectors

    return PeopleStep(PeopleDetectors(model.settings.cache).signal, lambda: model.words.vector(PERSON_WORD))


def on_ray(address: str, settings: Settings, manifest: Manifest) -> RemoteEmbedding:
    """Decoding and embedding on the Ray cluster at address, as `index --ray` does: each actor loads
    the network itself, at settings' backend, precision and batch size."""
    from devsearch.indexer.ray_runner import RayEmbedding

    unloaded = ResolvedModel(manifest, settings)  # sent to every actor: a manifest, not a network
    return RayEmbedding(address, partial(unloaded.embed_for_store, pad_to=settings.batch_size), manifest.dims,
                        settings.workers)


def _move_if_allowed(store: Store, bound: Manifest | None, model: ResolvedModel, settings: Settings) -> None:
    """Bind a store bound to another model to this one when it may move (model.resolver.can_move_to);
    run_index binds an unbound store and refuses any other mismatch (--rebuild)."""
    if bound is not None and bound.fingerprint != model.manifest.fingerprint and can_move_to(bound, model.manifest, settings):
        store.bind_model(model.manifest)
