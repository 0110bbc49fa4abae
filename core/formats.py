"""Which file names are photos, by extension: one list for the crawl, the datasets and the query parser.

Kept apart from core/photo.py so the query parser can ask without importing Pillow.
"""
from __future__ import annotations

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
HEIF_EXTENSIONS = frozenset({".heic", ".heif"})  # decodable only with the optional pillow-heif
IMAGE_EXTENSIONS = PHOTO_EXTENSIONS | HEIF_EXTENSIONS
