"""Shared fixtures: one model cache per test session (weights are converted once), and the small
hand-made photo library the search and CLI tests query."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_library import make_library

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir for converted weights and word caches, shared by the whole session.

    DEVSEARCH_TEST_CACHE lets a developer reuse one across runs; CI starts from nothing.
    """
    reuse = os.environ.get("DEVSEARCH_TEST_CACHE")
    cache = Path(reuse) if reuse else tmp_path_factory.mktemp("devsearch-cache")
    os.environ["DEVSEARCH_CACHE"] = str(cache)
    return cache


@pytest.fixture
def library(tmp_path: Path) -> dict:
    """A real store of six photos along the word axes dog, beach, cat, people (tests/tiny_library.py)."""
    return make_library(tmp_path)
