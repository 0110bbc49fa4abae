"""The catalog's tables as SQLAlchemy Core metadata, matching the head Alembic revision.

Queries use these; the migrations under `migrations/versions` create them (a migration never imports
this module, so old revisions stay what they were). tests/test_migrations.py checks the two agree.
"""
from __future__ import annotations

import os

from sqlalchemy import (Column, DateTime, Float, Index, Integer, LargeBinary, MetaData, String, Table, Text, TypeDecorator,
                        cast)

metadata = MetaData()


class ExactText(TypeDecorator):
    """TEXT holding a file name's exact bytes. Python carries bytes that are not UTF-8 as surrogate
    escapes, which sqlite3 cannot encode; bound as bytes and cast to TEXT, every name is stored as
    it is on disk, and orders and compares byte by byte. Reads decode with surrogateescape (the
    connections' text_factory, store/sqlite_engine.py and store/reader.py)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else os.fsencode(value)

    def bind_expression(self, bindvalue):
        return cast(bindvalue, Text)

# One row per file ever seen under an indexed root. Rows are never removed (only marked deleted)
# so that the HNSW catch-up after a crash sees every change; `--rebuild` starts over.
photos = Table(
    "photos",
    metadata,
    Column("id", Integer, primary_key=True),  # = the HNSW label; AUTOINCREMENT, so never reused
    Column("path", ExactText, nullable=False, unique=True),  # absolute
    Column("size", Integer, nullable=False),
    Column("mtime", Float, nullable=False),
    Column("content_hash", String(64)),
    Column("width", Integer),
    Column("height", Integer),
    Column("taken", DateTime),  # EXIF DateTimeOriginal, local time as the camera wrote it
    Column("status", String(16), nullable=False),  # indexed | failed | deleted
    Column("error", ExactText),  # may name the file
    Column("embedding", LargeBinary),  # float32 unit vector, native byte order
    Column("top_classes", LargeBinary),  # the classifier's top classes, store/kept_classes.py; NULL without one
    Column("model", String(200)),  # fingerprint of the model that made the embedding
    # what the people detectors found (model/people.py); NULL where they did not run
    Column("person_score", Float),  # the best person detection's score, 0..1
    Column("people_count", Integer),  # person detections at or above model.people.PERSON_THRESHOLD
    Column("face_share", Float),  # share of the photo's area taken by its largest face, 0 when none
    Column("indexed_at", DateTime),
    Column("generation", Integer, nullable=False, server_default="0"),  # store generation of the last change
    Index("ix_photos_generation", "generation"),
    Index("ix_photos_content_hash", "content_hash"),
    Index("ix_photos_status", "status"),
    Index("ix_photos_person_score", "person_score"),
    Index("ix_photos_people_count", "people_count"),
    Index("ix_photos_face_share", "face_share"),
    sqlite_autoincrement=True,
)

roots = Table(
    "roots",
    metadata,
    Column("path", ExactText, primary_key=True),
    Column("added_at", DateTime, nullable=False),
    Column("last_indexed_at", DateTime),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# What the last complete crawl of each root skipped, and why (replaced at each crawl).
skipped = Table(
    "skipped",
    metadata,
    Column("path", ExactText, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    Column("outcome", String(16), nullable=False),  # complete | interrupted
    Column("summary", Text, nullable=False),  # JSON: counts, failures by reason, elapsed, images/s
)
