"""One settings object, built from command-line options, then `DEVSEARCH_*` variables, then defaults."""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from devsearch.core.errors import UsageError

T = TypeVar("T", int, float)

BATCH_SIZE = 32  # photos per network batch
COMMIT_EVERY = 1024  # photos: the indexer commits at most this many at once ...
COMMIT_SECONDS = 2.0  # ... or what it has after this long, whichever comes first
DECODE_TIMEOUT_S = 60.0  # a file whose decoding takes longer fails (a 100 MP photo decodes in a few seconds here)
BACKENDS = ("auto", "litert", "tensorflow", "jax", "torch")  # the light runtime and Keras backends (model/backend.py)
PRECISIONS = ("auto", "float32", "bfloat16")  # network arithmetic (model/inference.py)
DECODERS = ("cpu", "gpu")  # where the indexer decodes JPEGs (gpu: indexer/gpu_decode.py)


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var)
    return Path(base) if base else Path.home() / fallback


def default_home() -> Path:
    """The store directory: `DEVSEARCH_HOME`, else `$XDG_DATA_HOME/devsearch`."""
    env = os.environ.get("DEVSEARCH_HOME")
    return Path(env) if env else _xdg("XDG_DATA_HOME", ".local/share") / "devsearch"


def default_cache() -> Path:
    """Derived, rebuildable files (converted weights, word caches): `DEVSEARCH_CACHE`, else XDG cache."""
    env = os.environ.get("DEVSEARCH_CACHE")
    return Path(env) if env else _xdg("XDG_CACHE_HOME", ".cache") / "devsearch"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _env_number(name: str, default: T, parse: Callable[[str], T], fits: Callable[[T], bool], wanted: str) -> T:
    """A number from the environment, parsed and checked; anything else is a UsageError that names it."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = parse(value)
    except ValueError:
        number = None
    if number is None or not fits(number):
        raise UsageError(f"{name}={value!r} is not {wanted}: fix or unset it")
    return number


def _env_int(name: str, default: int) -> int:
    """A whole number of at least 1 from the environment."""
    return _env_number(name, default, int, lambda number: number >= 1, "a whole number of at least 1")


def _env_float(name: str, default: float, *, above: float | None = None) -> float:
    """A finite number of at least 0 (above `above`, when given) from the environment."""
    least = f"above {above:g}" if above is not None else "at least 0"
    return _env_number(name, default, float,
                       lambda number: 0 <= number < math.inf and (above is None or number > above), f"a number {least}")


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota (containers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return cores
    return cores if quota == "max" else max(1, min(cores, int(quota) // int(period)))


def debug_requested() -> bool:
    """DEVSEARCH_DEBUG set and not 0 (the one reading of it): tracebacks instead of one-line errors
    (cli/app.py), and libraries' own start-up logging let through (model/backend.py)."""
    return os.environ.get("DEVSEARCH_DEBUG", "") not in ("", "0")


@dataclass(frozen=True)
class Settings:
    """Where things live and how hard to work; passed down from the CLI, never global."""

    home: Path = field(default_factory=default_home)
    cache: Path = field(default_factory=default_cache)
    model: Path | None = field(default_factory=lambda: _env_path("DEVSEARCH_MODEL"))
    batch_size: int = field(default_factory=lambda: _env_int("DEVSEARCH_BATCH_SIZE", BATCH_SIZE))
    workers: int = field(default_factory=lambda: _env_int("DEVSEARCH_WORKERS", usable_cores()))
    commit_every: int = field(default_factory=lambda: _env_int("DEVSEARCH_COMMIT_EVERY", COMMIT_EVERY))
    commit_seconds: float = field(default_factory=lambda: _env_float("DEVSEARCH_COMMIT_SECONDS", COMMIT_SECONDS))
    decode_timeout: float = field(default_factory=lambda: _env_float("DEVSEARCH_DECODE_TIMEOUT", DECODE_TIMEOUT_S,
                                                                      above=0))
    backend: str = field(default_factory=lambda: os.environ.get("DEVSEARCH_BACKEND") or "auto")
    precision: str = field(default_factory=lambda: os.environ.get("DEVSEARCH_PRECISION") or "auto")
    decoder: str = field(default_factory=lambda: os.environ.get("DEVSEARCH_DECODER") or "cpu")
    people: bool = field(default_factory=lambda: os.environ.get("DEVSEARCH_PEOPLE", "1") != "0")  # the people detectors

    def __post_init__(self) -> None:
        for name, allowed in (("backend", BACKENDS), ("precision", PRECISIONS), ("decoder", DECODERS)):
            if getattr(self, name) not in allowed:
                raise UsageError(f"unknown {name} {getattr(self, name)!r}: choose one of {', '.join(allowed)}")

    def with_options(self, **options: object) -> "Settings":
        """A copy with the command-line options that were given (None means 'not given')."""
        given = {k: v for k, v in options.items() if v is not None}
        return replace(self, **given)
