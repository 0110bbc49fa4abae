"""The word space a model bundle uses: its own copy inside the bundle, or a named or shared source.

Both the resolver (which model a command uses, without Keras) and the Keras bundle open it, so it
lives apart from both: the resolver imports the bundle, never the other way round."""
from __future__ import annotations

from pathlib import Path

from devsearch.core.settings import Settings
from devsearch.model.manifest import BUNDLED_WORDS_DIR, Manifest
from devsearch.wordspace.lookup import WordLookup
from devsearch.wordspace.sources import open_words


def open_words_for(manifest: Manifest, settings: Settings) -> WordLookup:
    """The word space a bundle (or a store bound to it) uses: its own copy, or a named/shared source."""
    if manifest.words == BUNDLED_WORDS_DIR:
        return WordLookup.open(Path(manifest.path) / BUNDLED_WORDS_DIR)
    return open_words(manifest.words, settings.cache)
