"""Decode and embed on a Ray cluster with Ray Data; this process still crawls, plans and commits.

The stream: the files to (re)index -> decode tasks on the cluster's CPUs (each reads its files by
path, so every node must see the photo folders at the same path: shared storage) -> a pool of
embedding actors (one model load each, one GPU each when the cluster has GPUs) fed batches of a
fixed size -> back to this process, where the store's one writer commits them in batch transactions
(indexer/pipeline.py and indexer/commits.py), exactly as a local run does.

A worker that dies costs only its files in flight: the decode block or embedding batch it held is
dropped, not the run. Every file that did not come back is then tried once more, alone in its own
task, and a file that fails again is recorded as failed.
"""
from __future__ import annotations

import math
import os
import socket
import time
import warnings
from collections.abc import Generator
from datetime import datetime

import numpy as np

from devsearch.core.errors import ClusterError
from devsearch.core.photo import INPUT_SIZE
from devsearch.indexer.decode import CRASHED, Decoded, Work, decode_chunk
from devsearch.indexer.pipeline import Embed, EmbeddedBatch, embed_photos
from devsearch.indexer.progress import Progress
from devsearch.indexer.ray_cluster import ClusterShape, connected
from devsearch.store.kept_classes import TOP_K, TopClasses

MAX_BLOCK = 32  # files per decode task: what a worker that dies can cost before the retry
ACTORS_READY_S = 600  # how long the embedding actors may take to start (a cluster scaling up, say)
SHAPE_EVERY_S = 10.0  # how often the progress line's worker count is refreshed
SHARED_STORAGE_HINT = "every Ray node must see the photos at the same path"


def _work_columns(batch: dict[str, np.ndarray]) -> list[Work]:
    """The rows' files. Paths (and errors, which may name them) travel as their exact bytes, since a
    file name need not be UTF-8 and Ray Data's columns of text must be."""
    return [Work(os.fsdecode(bytes(path)), int(size), float(mtime), str(kind))
            for path, size, mtime, kind in zip(batch["path"], batch["size"], batch["mtime"], batch["kind"])]


def _on_this_node(error: str | None) -> bytes:
    """The error as bytes (b"" for none); a file a worker cannot read says where, since the driver may
    well read it."""
    if error is not None and error.startswith("unreadable"):
        error = f"{error} on {socket.gethostname()} ({SHARED_STORAGE_HINT})"
    return os.fsencode(error or "")


def decode_block(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A Ray task: decode one block of files by path; failures are rows with an error, never a raise."""
    decoded = decode_chunk(_work_columns(batch))
    pixels = np.zeros((len(decoded), INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    for row, item in enumerate(decoded):
        if item.pixels is not None:
            pixels[row] = item.pixels
    return {
        **{name: batch[name] for name in ("path", "size", "mtime", "kind")},
        "content_hash": np.array([d.content_hash or "" for d in decoded], dtype=object),
        "width": np.array([d.width or 0 for d in decoded], dtype=np.int64),
        "height": np.array([d.height or 0 for d in decoded], dtype=np.int64),
        "taken": np.array([d.taken.isoformat() if d.taken else "" for d in decoded], dtype=object),
        "error": np.array([_on_this_node(d.error) for d in decoded], dtype=object),
        "pixels": pixels,
    }


class EmbedActor:
    """A Ray actor: embeds batches of decoded rows. It loads its model once, when it starts, and runs
    one batch of the fixed size, so the network is compiled before the first real batch arrives."""

    def __init__(self, embed: Embed, dims: int, batch_size: int):
        self._embed = embed
        self._dims = dims
        embed(np.zeros((batch_size, INPUT_SIZE, INPUT_SIZE, 3), np.uint8))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The rows without their pixels, with their vectors and kept top classes (as two arrays and
        whether a row has them); `fatal` says why the network failed, if it did (no file's fault: the
        run must stop, not record files)."""
        good = batch["error"] == b""
        vectors = np.zeros((len(good), self._dims), np.float32)
        class_ids = np.zeros((len(good), TOP_K), np.int64)
        class_probabilities = np.zeros((len(good), TOP_K), np.float32)
        has_classes = np.zeros(len(good), bool)
        fatal = ""
        try:
            good_vectors, good_kept = embed_photos(self._embed, list(batch["pixels"][good]))
            if good_vectors:
                vectors[good] = np.stack(good_vectors)
            for row, top in zip(np.flatnonzero(good), good_kept):
                if top is not None:
                    class_ids[row], class_probabilities[row], has_classes[row] = top.ids, top.probabilities, True
        except Exception as exc:
            fatal = f"{type(exc).__name__}: {exc}"
        return {**{name: column for name, column in batch.items() if name != "pixels"}, "vector": vectors,
                "class_ids": class_ids, "class_probabilities": class_probabilities, "has_classes": has_classes,
                "fatal": np.full(len(good), fatal, dtype=object)}


def _batch_from(batch: dict[str, np.ndarray]) -> EmbeddedBatch:
    """A batch as it came back: its Decoded rows (without pixels), and the vectors and kept top classes
    of the good ones."""
    fatal = next((reason for reason in batch["fatal"] if reason), None)
    if fatal is not None:
        raise ClusterError(f"an embedding worker failed ({fatal}): see the Ray logs (/tmp/ray/session_latest/logs "
                           "on the head node)")
    decoded = [
        Decoded(work, content_hash=digest or None, width=int(width) or None, height=int(height) or None,
                taken=datetime.fromisoformat(taken) if taken else None, error=os.fsdecode(bytes(error)) or None)
        for work, digest, width, height, taken, error in zip(
            _work_columns(batch), batch["content_hash"], batch["width"], batch["height"], batch["taken"],
            batch["error"])
    ]
    good = batch["error"] == b""
    kept = [TopClasses(ids, probabilities) if has else None for ids, probabilities, has
            in zip(batch["class_ids"][good], batch["class_probabilities"][good], batch["has_classes"][good])]
    return decoded, list(batch["vector"][good]), kept


def _last_line(exc: BaseException) -> str:
    """What went wrong, as the last line of a Ray error: a worker's traceback ends with its exception
    (an embedding actor that cannot load its model, say: `...AssetMissingError: ...`)."""
    return next((line.strip() for line in reversed(str(exc).splitlines()) if line.strip()), type(exc).__name__)


class RayEmbedding:
    """indexer.pipeline.RemoteEmbedding on the Ray cluster at address (see indexer/ray_cluster.py).

    embed is sent to every embedding actor; cpus is the size of a `local` cluster."""

    def __init__(self, address: str, embed: Embed, dims: int, cpus: int):
        self.address = address
        self.embed = embed
        self.dims = dims
        self.cpus = cpus

    def embed_batches(self, work: list[Work], batch_size: int,
                      progress: Progress) -> Generator[EmbeddedBatch, None, None]:
        with connected(self.address, self.cpus):
            missing = {item.path: item for item in work}
            block = max(1, min(MAX_BLOCK, math.ceil(len(work) / (4 * max(ClusterShape.now().cpus, 1)))))
            for attempt_block in (block, 1):  # then each file that did not come back, alone
                for embedded in self._stream(list(missing.values()), batch_size, attempt_block, progress):
                    for item in embedded[0]:
                        missing.pop(item.work.path, None)
                    yield embedded
                if not missing:
                    return
            yield [Decoded(item, error=CRASHED) for item in missing.values()], [], []

    def _stream(self, work: list[Work], batch_size: int, block: int,
                progress: Progress) -> Generator[EmbeddedBatch, None, None]:
        import ray

        shape = ClusterShape.now()
        progress.workers(shape.describe())
        refreshed = time.monotonic()
        try:
            for batch in self._dataset(work, batch_size, block, shape).iter_batches(batch_size=None,
                                                                                     batch_format="numpy"):
                yield _batch_from(batch)  # one network batch; the writer thread groups them into commits
                if time.monotonic() - refreshed > SHAPE_EVERY_S:
                    progress.workers(ClusterShape.now().describe())
                    refreshed = time.monotonic()
        except ray.exceptions.RayError as exc:
            raise ClusterError(f"the Ray job failed ({_last_line(exc)}): see the Ray logs "
                               "(/tmp/ray/session_latest/logs on the head node)") from None

    def _dataset(self, work: list[Work], batch_size: int, block: int, shape: ClusterShape):
        """files -> decode tasks (block files each) -> embedding actors (batch_size rows each), as a Ray Dataset."""
        import ray.data

        context = ray.data.DataContext.get_current()
        # a block whose worker died is dropped, not the run: its files are tried again. Only a dead worker
        # errs a block: decode_block and EmbedActor turn every exception into a row value
        context.max_errored_blocks = -1
        context.enable_progress_bars = False
        context.wait_for_min_actors_s = ACTORS_READY_S  # decoding starts once the embedders hold their model
        gpus = 1 if shape.gpus else 0
        dataset = ray.data.from_items(
            [{"path": os.fsencode(w.path), "size": w.size, "mtime": w.mtime, "kind": w.kind} for w in work],
            override_num_blocks=math.ceil(len(work) / block))
        with warnings.catch_warnings():  # retry limits are still ray_remote_args, deprecated without a successor
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = dataset.map_batches(decode_block, batch_size=None, num_cpus=1, max_retries=0)
            return dataset.map_batches(EmbedActor, fn_constructor_args=(self.embed, self.dims, batch_size),
                                       batch_size=batch_size,
                                       compute=ray.data.ActorPoolStrategy(size=shape.embedders()),
                                       num_gpus=gpus, num_cpus=0 if gpus else 1, max_task_retries=1)
