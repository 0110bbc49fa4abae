"""Which photos a search may return: under a folder, taken after/before a date.

Dates are compared with the capture time (EXIF) or, without one, the file's mtime, both as naive
local times, the way the catalog stores them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from devsearch.core.errors import InputError


@dataclass(frozen=True)
class Filters:
    """Under a folder, taken after and before a moment; all None means every indexed photo."""

    under: Path | None = None
    after: datetime | None = None
    before: datetime | None = None

    @property
    def active(self) -> bool:
        return self.under is not None or self.after is not None or self.before is not None


def parse_date(text: str, field: str) -> datetime:
    """`YYYY-MM-DD` (midnight), `YYYY-MM` or `YYYY` (the moment it begins: after 2023 and before 2024
    is the year 2023), or an ISO 8601 date-time; one with a zone is turned into local time.

    A bad value is an InputError naming the field (`after`, `before`), which the caller words as its
    user knows it, so the user sees what to fix.
    """
    typed = text.strip()
    full = {4: f"{typed}-01-01", 7: f"{typed}-01"}.get(len(typed), typed) if re.fullmatch(r"\d{4}(-\d{2})?", typed) else typed
    try:
        value = datetime.fromisoformat(full)
    except ValueError:
        raise InputError(lambda name: f"{name(field)} {text!r} is not a date: use YYYY-MM-DD, YYYY-MM, YYYY or an "
                                      "ISO date-time like 2024-06-01T14:30") from None
    return _local(value) if value.tzinfo is not None else value


def _local(moment: datetime) -> datetime:
    """An aware time as naive local time; one beyond the years 1-9999 there becomes the first or last
    representable moment, which orders the same against every photo (`0001-01-01T00:00+14:00`)."""
    try:
        return moment.astimezone().replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        offset = datetime.now().astimezone().utcoffset() - moment.utcoffset()
        try:
            return moment.replace(tzinfo=None) + offset
        except OverflowError:
            return datetime.min if offset < timedelta(0) else datetime.max


def make_filters(under: Path | None = None, after: str | None = None, before: str | None = None) -> Filters:
    """Filters from the strings a user gave; a missing folder, a bad date or `after` not before `before`
    is an InputError naming the field (`under`, `after`, `before`): the CLI words it with its options,
    the web API with its parameters."""
    start = parse_date(after, "after") if after is not None else None
    end = parse_date(before, "before") if before is not None else None
    if start is not None and end is not None and start >= end:
        raise InputError(lambda name: f"the start date {after} ({name('after')}) is not before the end date {before} "
                                      f"({name('before')}): nothing could match; swap them")
    folder = None
    if under is not None:
        try:
            folder = Path(os.path.expanduser(under)).resolve()
            is_folder = folder.is_dir()
        except OSError as exc:
            raise InputError(lambda name, why=exc.strerror: f"{name('under')} {under}: {why}") from None
        if not is_folder:
            raise InputError(lambda name: f"{name('under')} {under}: no such folder")
    return Filters(under=folder, after=start, before=end)
