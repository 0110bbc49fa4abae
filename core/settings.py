"""One settings object, built from command-line options, then `DEVSEARCH_*` variables, then defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


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


def _env_int(name: str, default: int) -> int:
    """A positive whole number from the environment; anything else is a UsageError that names it."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        from core.errors import UsageError

        raise UsageError(f"{name}={value!r} is not a whole number of at least 1: fix or unset it")
    return number


@dataclass(frozen=True)
class Settings:
    """Where things live and how hard to work; passed down from the CLI, never global."""

    home: Path = field(default_factory=default_home)
    cache: Path = field(default_factory=default_cache)
    model: Path | None = field(default_factory=lambda: _env_path("DEVSEARCH_MODEL"))
    batch_size: int = field(default_factory=lambda: _env_int("DEVSEARCH_BATCH_SIZE", 32))
    workers: int = field(default_factory=lambda: _env_int("DEVSEARCH_WORKERS", os.cpu_count() or 1))

    def with_options(self, **options: object) -> "Settings":
        """A copy with the command-line options that were given (None means 'not given')."""
        given = {k: v for k, v in options.items() if v is not None}
        return replace(self, **given)
