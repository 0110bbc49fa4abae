"""Derived files made of numpy arrays, replaced as a set: a reader sees the old set or the new one.

The arrays are written under fresh names (`<prefix><generation>-<token>-<name>.npy`), then a sidecar
JSON naming them ({"generation", <name>: <file>, ...}) is renamed into place, then older sets are removed. Loading maps the arrays
(`allow_pickle=False`); a missing or damaged set loads as None, to be rebuilt from the catalog.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import numpy as np

from core.files import write_atomically


def save_arrays(home: Path, sidecar: str, prefix: str, generation: int, arrays: dict[str, np.ndarray],
                **meta: object) -> None:
    """Write arrays and a sidecar {"generation", **meta, name: file for each array}, then drop older sets."""
    home = Path(home)
    token = f"{prefix}{generation}-{secrets.token_hex(4)}"
    files = {name: f"{token}-{name}.npy" for name in arrays}
    try:
        for name, array in arrays.items():
            write_atomically(home / files[name], lambda tmp, a=array: np.save(tmp, np.ascontiguousarray(a)))
        document = {"generation": generation, **meta, **files}
        write_atomically(home / sidecar, lambda tmp: Path(tmp).write_text(json.dumps(document)))
    except BaseException:
        for name in files.values():
            (home / name).unlink(missing_ok=True)
        raise
    for path in home.glob(f"{prefix}*.npy"):
        if path.name not in files.values():
            path.unlink(missing_ok=True)


def load_arrays(home: Path, sidecar: str, names: tuple[str, ...]) -> tuple[dict, dict[str, np.ndarray]] | None:
    """(sidecar, the named arrays memory-mapped), or None when the set is missing or unreadable."""
    home = Path(home)
    try:
        document = json.loads((home / sidecar).read_text())
        int(document["generation"])
        # plain ndarray views of the maps: slicing a np.memmap costs a Python call each time
        arrays = {name: np.load(home / document[name], mmap_mode="r", allow_pickle=False).view(np.ndarray)
                  for name in names}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return document, arrays


def remove_arrays(home: Path, sidecar: str, prefix: str) -> None:
    home = Path(home)
    (home / sidecar).unlink(missing_ok=True)
    for path in home.glob(f"{prefix}*.npy"):
        path.unlink(missing_ok=True)
