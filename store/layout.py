"""What lies in a store's home besides the catalog and its derived files: `devsearch serve`'s
thumbnail cache. A home inside an indexed tree must not have its own thumbnails indexed as photos."""
from __future__ import annotations

import os

from devsearch.store.reader import CATALOG_FILE

THUMBNAILS_FOLDER = "thumbnails"  # <home>/thumbnails/<size>/<2 hex>/<content hash>.jpg (serve/thumbnails.py)


def is_thumbnail_cache(folder: str) -> bool:
    """Whether folder is a store's thumbnail cache: named so, beside a catalog."""
    return (os.path.basename(folder) == THUMBNAILS_FOLDER
            and os.path.isfile(os.path.join(os.path.dirname(folder), CATALOG_FILE)))
