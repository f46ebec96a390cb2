"""Injectable clock: all time logic asks a Clock, so tests move time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, replays)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, the format of every timestamp leadflow writes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: object) -> datetime | None:
    """ISO-8601 text (with Z) or a datetime → aware datetime (naive → UTC); None when
    unparseable or out of range in UTC ('0001-01-01T00:00+14:00' is year 0 there, which
    would crash a CRM write)."""
    if value is None:
        return None
    try:
        parsed = (value if isinstance(value, datetime)
                  else datetime.fromisoformat(str(value).replace("Z", "+00:00")))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed.astimezone(UTC)  # the CRM stores UTC: this must not overflow there
    except (ValueError, OverflowError):
        return None
    return parsed
