"""Date filters order every representable date correctly: years before 1000, zones up to +/-14:00,
mtimes beyond year 9999. Property tests (hypothesis) against Python's own datetime ordering."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from devsearch.core.errors import UsageError
from devsearch.model.manifest import Manifest
from devsearch.search.filters import make_filters, parse_date
from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, EmbeddedPhoto

MANIFEST = Manifest(fingerprint="test-space:1", dims=2, backbone="none", head="none", words="none", words_name="none",
                    labels="none")
EDGES = [datetime(1, 1, 1), datetime(999, 12, 31, 23, 59, 59), datetime(1000, 1, 1), datetime(1969, 12, 31, 23, 59, 59),
         datetime(1970, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]
seconds = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda moment: moment.replace(microsecond=0))
TAKEN = EDGES + [datetime(1, 1, 1) + timedelta(seconds=int(s))
                 for s in np.random.default_rng(0).integers(0, 315_537_897_599, 200)]


def photo(path: str, taken: datetime | None, mtime: float = 1.0) -> EmbeddedPhoto:
    return EmbeddedPhoto(path=path, size=1, mtime=mtime, content_hash=path, width=1, height=1, taken=taken,
                         vector=np.array([1.0, 0.0], dtype=np.float32))


@pytest.fixture(scope="module")
def dated(tmp_path_factory) -> tuple[Path, dict[str, datetime]]:
    """A store of photos whose EXIF times span the years 1 to 9999."""
    home = tmp_path_factory.mktemp("dates") / "home"
    taken = {f"/p/{i}.jpg": moment for i, moment in enumerate(TAKEN)}
    with Store.open(home, writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=[photo(path, moment) for path, moment in taken.items()]))
    return home, taken


def matching(home: Path, **dates: datetime) -> set[str]:
    with Store.open(home) as store:
        return {record.path for record in store.get(store.ids_matching(**dates))}


@settings(max_examples=60, deadline=None)
@given(after=seconds)
def test_after_keeps_exactly_the_photos_taken_then_or_later(dated, after: datetime) -> None:
    home, taken = dated
    assert matching(home, after=after) == {path for path, moment in taken.items() if moment >= after}


@settings(max_examples=60, deadline=None)
@given(before=seconds)
def test_before_keeps_exactly_the_photos_taken_then_or_earlier(dated, before: datetime) -> None:
    home, taken = dated
    assert matching(home, before=before) == {path for path, moment in taken.items() if moment <= before}


def test_a_year_before_1000_is_a_date_not_text(dated) -> None:
    home, taken = dated
    assert matching(home, before=datetime(999, 12, 31, 23, 59, 59)) == {
        path for path, moment in taken.items() if moment.year < 1000}


@settings(max_examples=100, deadline=None)
@given(moment=seconds, minutes=st.integers(-14 * 60, 14 * 60))
def test_any_zone_offset_parses_without_overflow(moment: datetime, minutes: int) -> None:
    zoned = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    parsed = parse_date(zoned.isoformat(), "--after")
    assert parsed.tzinfo is None and datetime.min <= parsed <= datetime.max


def test_a_zone_that_leaves_the_calendar_clamps_to_its_end() -> None:
    assert parse_date("0001-01-01T00:00:00+14:00", "--after") == datetime.min
    assert parse_date("9999-12-31T23:59:59-14:00", "--before") == datetime.max
    assert make_filters(after="0001-01-01T00:00:00+14:00").after == datetime.min


def test_an_mtime_beyond_year_9999_is_later_than_every_date(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home, writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=[photo("/p/future.jpg", None, mtime=1e12),
                                         photo("/p/now.jpg", None, mtime=1_700_000_000.0)]))
    assert matching(home, after=datetime(9999, 1, 1)) == {"/p/future.jpg"}
    assert matching(home, before=datetime(2100, 1, 1)) == {"/p/now.jpg"}


def test_a_year_or_a_month_is_the_moment_it_begins():
    assert parse_date("2023", "--after") == datetime(2023, 1, 1)
    assert parse_date(" 2024-06 ", "--before") == datetime(2024, 6, 1)


def test_a_month_that_does_not_exist_is_a_usage_error_naming_what_was_typed():
    with pytest.raises(UsageError, match="--after '2024-13' is not a date"):
        parse_date("2024-13", "--after")


# 1971-2036: the C library and SQLite agree on local time there (SQLite maps other years to a similar one)
MTIMES = sorted({float(m) for m in np.random.default_rng(3).integers(40_000_000, 2_080_000_000, 150)}
                | {1_699_164_000.0 + 900 * i for i in range(-8, 9)}  # around a DST change (2023-11-05, New York)
                | {1_710_054_000.0 + 900 * i for i in range(-8, 9)})  # and the spring one (2024-03-10)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_an_mtime_is_compared_in_local_time_in_any_zone(tmp_path: Path, monkeypatch, zone: str) -> None:
    """Photos without an EXIF time are dated by their mtime in local time: the filters agree with
    Python's own local time for every bound near and far from them, in zones from -11 to +14 h."""
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        home = tmp_path / "home"
        with Store.open(home, writer=True) as store:
            store.bind_model(MANIFEST)
            store.commit(ChangeSet(embedded=[photo(f"/p/{i}.jpg", None, mtime=m) for i, m in enumerate(MTIMES)]))
        local = {f"/p/{i}.jpg": datetime.fromtimestamp(m).replace(microsecond=0) for i, m in enumerate(MTIMES)}
        rng = np.random.default_rng(5)
        for moment in rng.choice(sorted(local.values()), 25):
            for bound in (moment, moment + timedelta(seconds=1), moment - timedelta(hours=int(rng.integers(1, 30)))):
                assert matching(home, after=bound) == {p for p, when in local.items() if when >= bound}, (zone, bound)
                assert matching(home, before=bound) == {p for p, when in local.items() if when <= bound}, (zone, bound)
    finally:
        monkeypatch.undo()
        time.tzset()
