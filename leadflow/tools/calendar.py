"""The reps' calendars over CalDAV (the kept `caldav` client, events written with `icalendar`):
a rep's free/busy, the next open slots within their working hours, and a meeting created
with the lead as attendee, and that meeting removed again when the lead's person is erased.

Slots lie on a grid: each working day of the rep, in the rep's own time zone, is cut into
`slot_minutes` pieces from the start of their hours, so a slot is named by its start alone
(what `leadflow book` and `POST /leads/{id}/book` take) and two bookings of one meeting
always name the same start. Busy time is read with a CalDAV free-busy query (RFC 4791
§7.10), or, on a server that refuses it, from the events themselves (transparent and
cancelled ones leave the time free). Anything that goes wrong talking to the server —
down, refused login, a missing calendar, a timeout — is one `CalendarUnavailable`, which
the callers turn into a notice, never into a stuck lead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from leadflow.config import CalendarRules, Rep, WorkingHours
from leadflow.settings import CalendarSettings
from leadflow.tools.reps import RepDirectory

Busy = list[tuple[datetime, datetime]]


class CalendarUnavailable(Exception):
    """The rep's calendar could not be read or written (the message says why)."""


@dataclass(frozen=True)
class Slot:
    """One bookable piece of a rep's working time (UTC), shown in the rep's zone."""

    start: datetime
    end: datetime
    zone: str

    def local(self, fmt: str) -> str:
        here = self.start.astimezone(ZoneInfo(self.zone))
        return f"{here.strftime(fmt)} {here.tzname()}"

    def as_dict(self, fmt: str = "%a %d %b %H:%M") -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end), "timezone": self.zone,
                "local": self.local(fmt)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def grid_slots(hours: WorkingHours, zone: ZoneInfo, minutes: int, after: datetime,
               until: datetime) -> list[Slot]:
    """Every slot of the working hours (in `zone`) that starts at or after `after` and ends
    by `until`, in order. Wall-clock times are converted one by one, so a day that changes
    to or from summer time keeps its local hours."""
    step = timedelta(minutes=minutes)
    slots: list[Slot] = []
    day = after.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    while day <= last:
        if hours.works_on(day):
            start = datetime.combine(day, hours.start)
            close = datetime.combine(day, hours.end)
            while start + step <= close:
                begins = start.replace(tzinfo=zone).astimezone(UTC)
                ends = (start + step).replace(tzinfo=zone).astimezone(UTC)
                if begins >= after and ends <= until:
                    slots.append(Slot(begins, ends, zone.key))
                start += step
        day += timedelta(days=1)
    return slots


def free(slots: Iterable[Slot], busy: Busy) -> list[Slot]:
    """The slots that overlap no busy period."""
    return [s for s in slots if not any(b0 < s.end and s.start < b1 for b0, b1 in busy)]


def parse_moment(text: str) -> datetime:
    """A slot's start as given on the command line or in a body: ISO 8601 with a zone
    (`2026-12-08T15:00:00Z`, `…+01:00`); ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add Z or an offset such as +01:00")
    return moment.astimezone(UTC)


class Calendars:
    """The reps' calendars: reads free/busy, finds slots, writes meetings.

    `connect(url, user, password, timeout)` returns a caldav `Calendar` (tests may pass
    another); the settings are read when a calendar is used, as every settings section is.
    """

    def __init__(self, reps: RepDirectory, settings: CalendarSettings | None = None,
                 connect: Callable[[str, str, str, float], Any] | None = None) -> None:
        self.reps = reps
        self._settings = settings
        self._connect = connect or _caldav_calendar

    @property
    def settings(self) -> CalendarSettings:
        return self._settings or CalendarSettings.from_env()

    @property
    def rules(self) -> CalendarRules:
        return self.reps.calendar_rules

    def url(self, rep: Rep) -> str | None:
        """The rep's calendar URL; None when there is none to use (no base URL set and the
        rep names no absolute URL): the calendar feature is off for that rep."""
        where = self.reps.calendar_location(rep)
        if where.startswith(("http://", "https://")):
            return where
        base = self.settings.base_url
        return urljoin(base.rstrip("/") + "/", where.lstrip("/")) if base else None

    def enabled(self, rep: Rep) -> bool:
        return self.url(rep) is not None

    def _calendar(self, rep: Rep) -> Any:
        url = self.url(rep)
        if url is None:
            raise CalendarUnavailable(f"{rep.id} has no calendar (set LEADFLOW_CALDAV_URL)")
        settings = self.settings
        user, password = settings.login_for(rep.id)
        try:
            return self._connect(url, user, password, settings.timeout_s)
        except Exception as exc:  # any client or network failure is one kind
            raise CalendarUnavailable(f"{rep.id}'s calendar: {_reason(exc)}") from exc

    # ------------------------------------------------------------------ reading
    def busy(self, rep: Rep, start: datetime, end: datetime) -> Busy:
        """The rep's busy periods overlapping [start, end), in UTC."""
        calendar = self._calendar(rep)
        try:
            try:
                answer = calendar.freebusy_request(start, end)
                return _freebusy_periods(answer.data)
            except Exception as exc:
                if not _refused_report(exc):
                    raise
            return _event_periods(calendar.search(start=start, end=end, event=True,
                                                  expand=True))
        except CalendarUnavailable:
            raise
        except Exception as exc:
            raise CalendarUnavailable(f"{rep.id}'s calendar: {_reason(exc)}") from exc

    def candidates(self, rep: Rep, after: datetime, until: datetime | None = None) -> list[Slot]:
        """The rep's slots between `after` and `until` (default: the horizon), busy or not;
        none on a day the rep is out of office (reps.yaml), none for an inactive rep."""
        rules = self.rules
        until = until or after + timedelta(days=rules.horizon_days)
        zone = self.reps.timezone(rep)
        return [slot for slot in grid_slots(self.reps.working_hours(rep), zone,
                                            rules.slot_minutes, after, until)
                if self.reps.available(rep, slot.start.astimezone(zone).date())]

    def open_slots(self, rep: Rep, now: datetime, count: int | None = None) -> list[Slot]:
        """The next `count` (reps.yaml `offer`) open slots, the first at least
        `buffer_minutes` after now."""
        rules = self.rules
        after = now + timedelta(minutes=rules.buffer_minutes)
        slots = self.candidates(rep, after)
        if not slots:
            return []
        busy = self.busy(rep, slots[0].start, slots[-1].end)
        return free(slots, busy)[:count or rules.offer]

    def slot_at(self, rep: Rep, start: datetime, now: datetime) -> Slot | None:
        """The rep's slot that starts at `start`, if it is one (on the grid, in working
        hours, not in the past); None otherwise."""
        rules = self.rules
        start = start.astimezone(UTC)
        if start < now:
            return None
        window = self.candidates(rep, start, start + timedelta(minutes=rules.slot_minutes))
        return next((s for s in window if s.start == start), None)

    def is_free(self, rep: Rep, slot: Slot) -> bool:
        return bool(free([slot], self.busy(rep, slot.start, slot.end)))

    def _by_uid(self, rep: Rep, uid: str) -> Any | None:
        """The rep's calendar object with this UID (caldav's), or None when there is none."""
        calendar = self._calendar(rep)
        try:
            return calendar.get_event_by_uid(uid)
        except Exception as exc:
            if type(exc).__name__ == "NotFoundError":
                return None
            raise CalendarUnavailable(f"{rep.id}'s calendar: {_reason(exc)}") from exc

    def event(self, rep: Rep, uid: str) -> Any | None:
        """The event with this UID as icalendar's Calendar, or None when there is none."""
        found = self._by_uid(rep, uid)
        return None if found is None else found.icalendar_instance

    # ------------------------------------------------------------------ writing
    def create_event(self, rep: Rep, slot: Slot, *, uid: str, summary: str, description: str,
                     attendee_email: str, attendee_name: str | None, now: datetime) -> str:
        """Write the meeting into the rep's calendar (the rep organises, the lead attends);
        the same UID again overwrites, so a retried booking makes one event. Returns its URL."""
        from icalendar import Calendar, Event, vCalAddress, vText

        ical = Calendar()
        ical.add("prodid", "-//leadflow//meetings//EN")
        ical.add("version", "2.0")
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", slot.start)
        event.add("dtend", slot.end)
        event.add("summary", summary)
        event.add("description", description)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        organizer = vCalAddress(f"mailto:{rep.email}")
        organizer.params["cn"] = vText(rep.name)
        event.add("organizer", organizer)
        attendee = vCalAddress(f"mailto:{attendee_email}")
        if attendee_name:
            attendee.params["cn"] = vText(attendee_name)
        attendee.params.update({"role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION",
                                "rsvp": "TRUE", "cutype": "INDIVIDUAL"})
        event.add("attendee", attendee)
        ical.add_component(event)
        calendar = self._calendar(rep)
        try:
            saved = calendar.add_event(ical.to_ical().decode("utf-8"))
        except Exception as exc:
            raise CalendarUnavailable(f"{rep.id}'s calendar: {_reason(exc)}") from exc
        return str(saved.url)

    def delete_event(self, rep: Rep, uid: str) -> bool:
        """Remove the event with this UID from the rep's calendar (the meeting of a person
        who asked to be forgotten); False when it is not there (removed already: a retry,
        or by hand)."""
        found = self._by_uid(rep, uid)
        if found is None:
            return False
        try:
            found.delete()
        except Exception as exc:
            if type(exc).__name__ == "NotFoundError":
                return False
            raise CalendarUnavailable(f"{rep.id}'s calendar: {_reason(exc)}") from exc
        return True


def _caldav_calendar(url: str, user: str, password: str, timeout: float) -> Any:
    from caldav.davclient import DAVClient

    client = DAVClient(url=url, username=user or None, password=password or None,
                              timeout=max(1, round(timeout)))
    return client.calendar(url=url)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _refused_report(exc: BaseException) -> bool:
    """A server that does not answer free-busy queries (a ReportError, not a network one)."""
    return type(exc).__name__ == "ReportError"


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _freebusy_periods(data: str) -> Busy:
    """FREEBUSY periods of a VFREEBUSY answer, except those marked FREE."""
    from icalendar import Calendar

    busy: Busy = []
    for component in Calendar.from_ical(data).walk("VFREEBUSY"):
        props = component.get("FREEBUSY") or []
        for prop in props if isinstance(props, list) else [props]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            periods = prop.dts if hasattr(prop, "dts") else [prop]
            for period in periods:
                start, end = period.dt
                stop = start + end if isinstance(end, timedelta) else end
                busy.append((_utc(start), _utc(stop)))
    return busy


def _event_periods(events: Iterable[Any]) -> Busy:
    """The busy time of events (a server without free-busy queries): opaque, not cancelled."""
    busy: Busy = []
    for found in events:
        for event in found.icalendar_instance.walk("VEVENT"):
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT" or \
                    str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            start = event.decoded("DTSTART")
            end = event.decoded("DTEND") if "DTEND" in event else \
                start + (event.decoded("DURATION") if "DURATION" in event else timedelta(days=1))
            busy.append((_utc(start), _utc(end)))
    return busy
