"""What `leads list --since/--until/--cursor` and GET /leads take: dates, date-times and ages
as UTC bounds, and cursors that round-trip exactly (ids of any text) or are refused."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.tools.crm_reads import (
    CURSOR_MAX_LENGTH,
    CURSOR_PATTERN,
    BadListing,
    decode_cursor,
    encode_cursor,
    moment,
)

NOW = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "end", "expected"), [
    ("2026-11-01", False, datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-01", True, datetime(2026, 11, 2, tzinfo=UTC)),  # --until a day: all of it
    ("2026-11-01T09:30", False, datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),  # no zone: UTC
    ("2026-11-01T09:30", True, datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
    ("2026-11-01T09:30:00Z", False, datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
    ("2026-11-01T10:30:00+01:00", False, datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
    ("2026-11-01 09:30:00.5", False, datetime(2026, 11, 1, 9, 30, 0, 500000, tzinfo=UTC)),
    ("7d", False, NOW - timedelta(days=7)),
    ("36h", True, NOW - timedelta(hours=36)),
    ("2w", False, NOW - timedelta(weeks=2)),
    (" 0d ", False, NOW),
    ("9999-12-31", True, datetime(9999, 12, 31, tzinfo=UTC)),  # no next midnight: clamped
    ("0001-01-01T00:00+01:00", False, datetime.min.replace(tzinfo=UTC)),
    ("9999-12-31T23:00-05:00", False, datetime.max.replace(tzinfo=UTC)),
])
def test_a_bound_is_an_instant_in_utc(text: str, end: bool, expected: datetime) -> None:
    got = moment(text, now=NOW, end=end)
    assert got == expected and got.utcoffset() == timedelta(0)


def test_typed_bounds_as_the_api_passes_them() -> None:
    assert moment(date(2026, 11, 1), now=NOW, end=True) == datetime(2026, 11, 2, tzinfo=UTC)
    assert moment(datetime(2026, 11, 1, 9), now=NOW) == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert moment(datetime(2026, 11, 1, 9, tzinfo=timezone(timedelta(hours=-5))), now=NOW) \
        == datetime(2026, 11, 1, 14, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "7", "d7", "7 days", "12345d", "-7d",
                                  "2026-13-01", "2026-02-30", "2026-11-01T25:00", "1.5d",
                                  "20261101", "20261101T090000Z", "1700000000"])
def test_anything_else_is_refused_with_what_was_given(text: str) -> None:
    with pytest.raises(BadListing, match="not a date, a date and time, or an age"):
        moment(text, now=NOW)


def test_the_api_wants_a_date_time_s_zone() -> None:
    """GET /leads documents RFC 3339 date-times, which have one; `leads list` reads UTC."""
    assert moment("2026-11-01T09:30Z", now=NOW, zoned=True) == \
        moment("2026-11-01T09:30", now=NOW)
    assert moment("2026-11-01", now=NOW, zoned=True, end=True) == \
        datetime(2026, 11, 2, tzinfo=UTC)
    with pytest.raises(BadListing, match="needs its zone"):
        moment("2026-11-01T09:30", now=NOW, zoned=True)


@given(at=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2286, 1, 1),
                       timezones=st.just(UTC)),
       lead_id=st.text(max_size=40).map(lambda s: s.replace("\x00", "")))
def test_a_cursor_names_exactly_its_lead(at: datetime, lead_id: str) -> None:
    cursor = encode_cursor(at, lead_id)
    assert re.fullmatch(CURSOR_PATTERN.strip("^$"), cursor)
    assert len(cursor) <= CURSOR_MAX_LENGTH
    assert decode_cursor(cursor) == (at, lead_id)


@given(cursor=st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_string_of_the_documented_shape_is_a_position(cursor: str) -> None:
    """The API documents CURSOR_PATTERN; whatever matches it must decode (no 500)."""
    at, lead_id = decode_cursor(cursor)
    assert at.tzinfo is UTC and "\x00" not in lead_id


def test_a_cursor_encodes_the_instant_not_the_zone() -> None:
    here = datetime(2026, 11, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert encode_cursor(here, "LEAD-1") == encode_cursor(here.astimezone(UTC), "LEAD-1")
