"""The shipped data files load through the installed package, whatever the current folder is.

`python -m pytest` puts the repository root on sys.path, where the bare folders `model/` and `wordspace/` are
importable; a user's shell is anywhere else, so these run in a fresh process from an empty folder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LOADERS = {
    "class senses": "from devsearch.model.class_senses import load_class_senses as f; assert f()",
    "wordnet": "from devsearch.wordspace.wordnet import load_wordnet as f; assert f()",
    "packaged model": "from devsearch.model.resolver import packaged_model_dir as f; f()",
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_shipped_data_loads_from_outside_the_repository(name: str, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", LOADERS[name]], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
