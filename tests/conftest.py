"""Shared fixtures: one model cache per test session, so weights are converted once."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

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
