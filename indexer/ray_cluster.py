"""The Ray cluster behind `devsearch index --ray ADDRESS`: which one, the connection, what it offers.

ADDRESS is `local` (a cluster started on this machine for this run, with --workers CPUs, gone when
the run ends), `auto` (the cluster that `ray start` runs on this machine) or `ray://host:port`
(Ray Client, from outside the cluster). Ray is the optional extra `[ray]`: without it, or with
another address, the option is refused before the store is touched. Ray is imported only here
and in indexer/ray_runner.py, and only once there is something to embed.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devsearch.core.errors import ClusterError, InputError

EXTRA = "pip install 'devsearch[ray]'"
LOCAL_OBJECT_STORE_BYTES = 1 << 30  # a local cluster shares this machine's memory: keep its store small


def require_ray(address: str, decoder: str = "cpu") -> None:
    """Refuse an address of another form, a GPU decoder (on Ray, decoding is the cluster's CPU tasks'),
    or a missing extra, before anything starts."""
    if address not in ("local", "auto") and not address.startswith("ray://"):
        raise InputError(lambda name: f"{name('ray')} {address!r} is not a Ray address: use local, auto or "
                                      "ray://HOST:PORT")
    if decoder != "cpu":
        raise InputError(lambda name: f"{name('decoder')} {decoder} decodes on this machine: with {name('ray')} the "
                                      "cluster's CPU workers decode; leave out one of the two")
    if importlib.util.find_spec("ray") is None:
        raise InputError(lambda name: f"{name('ray')} needs Ray, the optional extra [ray]: {EXTRA}")


def _forwarded_environment() -> dict[str, str]:
    """DEVSEARCH_* settings travel to every worker, so they load the model the way this process would."""
    return {name: value for name, value in os.environ.items() if name.startswith("DEVSEARCH_")}


def _quiet_console() -> None:
    """Ray's own console lines (a worker's death and traceback, its C++ core's notices, Ray Data's
    progress) stay out of our progress line and summary, which say what failed; Ray's log files keep
    them. Set before Ray is first imported: it reads these variables then."""
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    os.environ.setdefault("RAY_DEDUP_LOGS_SKIP_REGEX", ".")  # what the cluster reports to this process
    import ray.data  # noqa: F401  (configures the ray.data logger, whose console handler is quietened here)

    for handler in logging.getLogger("ray.data").handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.CRITICAL)


@contextmanager
def connected(address: str, cpus: int) -> Iterator[None]:
    """Connected to the cluster (a local one started) for the duration; disconnected (stopped) after.

    A process already connected (a notebook, a benchmark running several indexes) keeps its connection."""
    _quiet_console()
    import ray

    if ray.is_initialized():
        yield
        return
    options: dict = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False,
                     "runtime_env": {"env_vars": _forwarded_environment()}}
    if address == "local":
        options.update(num_cpus=cpus, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot use the Ray cluster at {address} ({exc}): start one with `ray start --head`, "
                           "or run with --ray local") from None
    try:
        yield
    finally:
        ray.shutdown()


@dataclass(frozen=True)
class ClusterShape:
    """What the cluster offers right now: the decode tasks use its CPUs, the embedders its GPUs if any."""

    nodes: int
    cpus: int
    gpus: int

    @classmethod
    def now(cls) -> "ClusterShape":
        import ray

        resources = ray.cluster_resources()
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        return cls(max(nodes, 1), int(resources.get("CPU", 0)), int(resources.get("GPU", 0)))

    def embedders(self) -> int:
        """One embedding actor per GPU; on a CPU cluster one per node (its network uses all the node's cores)."""
        return self.gpus or self.nodes

    def describe(self) -> str:
        gpus = f", {self.gpus} GPUs" if self.gpus else ""
        return f"{self.nodes} node{'s' if self.nodes != 1 else ''}, {self.cpus} CPUs{gpus}"
