"""`devsearch index` as one call: take the store's lock, settle the model, run the pipeline.

The model is loaded only when there is something to embed, so re-running on an unchanged tree
never imports TensorFlow; its manifest (plain JSON) is enough to check the store's binding.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from core.settings import Settings
from indexer.crawl import resolve_roots
from indexer.gpu_decode import GpuJpegDecoder
from indexer.pipeline import run_index
from indexer.progress import Progress
from indexer.summary import RunSummary
from model.resolver import resolve_model
from store.catalog import Store


def index_paths(paths: list[Path], settings: Settings, *, rebuild: bool = False, follow_symlinks: bool = False,
                progress: Progress | None = None) -> RunSummary:
    """Index the photos under paths into the store at settings.home."""
    roots = resolve_roots(paths)
    jpeg_decoder = GpuJpegDecoder() if settings.decoder == "gpu" else None  # checks torchvision and CUDA
    with Store.open(settings.home, writer=True, set_aside_damaged=rebuild) as store:
        if rebuild:
            store.reset()
        model = resolve_model(settings, store.model_manifest())
        store.check_model(model.manifest.fingerprint)
        return run_index(roots, store, partial(model.embed, pad_to=settings.batch_size), model.manifest,
                         batch_size=settings.batch_size, commit_every=settings.commit_every,
                         commit_seconds=settings.commit_seconds, workers=settings.workers,
                         follow_symlinks=follow_symlinks, progress=progress, network=model.runtime,
                         jpeg_decoder=jpeg_decoder)
