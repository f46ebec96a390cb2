"""Forgetting a person also deletes the meetings booked for their leads from the reps' CalDAV
calendars (a real Radicale, tests/radicale_server.py): the event that named them as attendee
is gone from the server and the slot is free again; a calendar that is down leaves the
meeting marked in the CRM, says so (report, exit 1, an operations notice) and a later run
deletes it; the CLI's --retry-calendars does the same."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadflow.clock import FrozenClock
from leadflow.graph import build_graph
from leadflow.meetings import book
from leadflow.settings import CalendarSettings
from leadflow.toolbox import Toolbox
from leadflow.tools.calendar import Calendars
from leadflow.tools.crm.schema import MeetingBooking
from leadflow.tools.erasure import ErasureReport, forget, retry_meeting_erasures
from tests import radicale_server as rs
from tests.conftest import OpenCheckpoints, form_item
from tests.integration.test_forget import leadflow_cli
from tests.integration.test_meetings import NA_REPS, closed_port, run, settings_for

pytestmark = pytest.mark.slow
PRIYA = "priya.nair@lumenhealth.com"


@pytest.fixture
def caldav(tmp_path: Path) -> Iterator[rs.Radicale]:
    yield from rs.running(tmp_path / "radicale")


@pytest.fixture
def calendars(tools: Toolbox, caldav: rs.Radicale) -> rs.Radicale:
    for rep_id in NA_REPS:
        caldav.make_calendar(rep_id)
    tools.calendar = Calendars(tools.reps, settings_for(caldav))
    return caldav


def booked_lead(tools: Toolbox, clock: FrozenClock,
                checkpoints: OpenCheckpoints) -> tuple[str, str, str]:
    """Priya's hot lead, routed, with its owner's first slot booked: (lead, rep, event uid)."""
    [outcome] = run(tools, checkpoints, [form_item()])
    lead_id = outcome["lead_id"]
    rep = tools.reps.get(outcome["assignment"]["rep_id"])
    assert rep is not None
    first = tools.calendar.open_slots(rep, clock.now())[0]

    async def go() -> dict[str, Any]:
        async with checkpoints() as saver:
            return await book(build_graph(saver, toolbox=tools), tools, lead_id, first.start)

    booking = asyncio.run(go())
    return lead_id, rep.id, booking["event_uid"]


def events_naming(server: rs.Radicale, rep_id: str, email: str) -> list[str]:
    """UIDs of the events in the rep's calendar (read from the server) naming `email`."""
    found = []
    for event in server.calendar(rep_id).events():
        data = event.data or ""
        if email.lower() in data.lower():
            found.append(str(event.icalendar_instance.walk("VEVENT")[0]["UID"]))
    return found


def bookings(tools: Toolbox) -> list[dict[str, Any]]:
    with tools.crm.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(MeetingBooking.__table__)).mappings()]


def erase(tools: Toolbox, checkpoints: OpenCheckpoints, who: str,
          calendars: Calendars) -> ErasureReport:
    async def go() -> ErasureReport | None:
        async with checkpoints() as saver:
            return await forget(tools.crm, saver, who, requested_by="test",
                                now=tools.clock.now(), calendars=calendars,
                                notifier=tools.notifier)

    report = asyncio.run(go())
    assert report is not None
    return report


def test_forget_deletes_the_persons_meeting_from_the_reps_calendar(
        tools: Toolbox, clock: FrozenClock, checkpoints: OpenCheckpoints,
        calendars: rs.Radicale) -> None:
    lead_id, rep_id, uid = booked_lead(tools, clock, checkpoints)
    assert events_naming(calendars, rep_id, PRIYA) == [uid]
    calendars.busy(rep_id, datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
                   datetime(2026, 12, 1, 16, 0, tzinfo=UTC), summary="standup")
    before = len(list(calendars.calendar(rep_id).events()))

    report = erase(tools, checkpoints, PRIYA, tools.calendar)
    assert report.meetings is not None
    assert (report.meetings.deleted, report.meetings.pending) == (1, ())
    assert report.rows["meeting_bookings"] == 1
    assert report.as_dict()["meetings_deleted"] == 1
    # gone from the server, the rep's other events kept; the slot is free again
    assert events_naming(calendars, rep_id, PRIYA) == []
    assert "nair" not in "".join(e.data.lower() for e in calendars.calendar(rep_id).events())
    assert len(list(calendars.calendar(rep_id).events())) == before - 1
    assert bookings(tools) == []
    assert not [n for n in tools.crm.notifications(lead_id) if n["audience"] == "operations"]


def test_a_calendar_that_is_down_keeps_the_meeting_marked_until_a_retry_deletes_it(
        tools: Toolbox, clock: FrozenClock, checkpoints: OpenCheckpoints,
        calendars: rs.Radicale, database_url: str, tmp_path: Path) -> None:
    lead_id, rep_id, uid = booked_lead(tools, clock, checkpoints)
    down = Calendars(tools.reps, CalendarSettings(
        base_url=f"http://127.0.0.1:{closed_port()}/leadflow/", timeout_s=2))

    report = erase(tools, checkpoints, PRIYA, down)
    assert report.meetings is not None and report.meetings.deleted == 0
    [pending] = report.meetings.pending
    assert (pending["lead_id"], pending["rep_id"]) == (lead_id, rep_id)
    assert rep_id in pending["why"]
    assert report.as_dict()["meetings_pending"] == [pending]
    # the person's data is erased in the CRM all the same; the meeting is the to-do
    assert tools.crm.find_person(PRIYA) is None
    assert [(b["lead_id"], b["state"], b["event_uid"]) for b in bookings(tools)] == [
        (lead_id, "erasing", uid)]
    assert events_naming(calendars, rep_id, PRIYA) == [uid]
    notices = [n for n in tools.crm.notifications(lead_id) if n["audience"] == "operations"
               and "erased lead" in n["subject"]]
    assert len(notices) == 1 and "retry-calendars" in notices[0]["body"]
    assert PRIYA not in notices[0]["body"] and "Priya" not in notices[0]["body"]

    # still down: retried, still pending, operations not told twice
    again = asyncio.run(retry_meeting_erasures(tools.crm, now=clock.now(), calendars=down,
                                               notifier=tools.notifier))
    assert again.deleted == 0 and len(again.pending) == 1
    assert len([n for n in tools.crm.notifications(lead_id)
                if "erased lead" in n["subject"]]) == 1

    # back up: the CLI's retry (its calendars from the environment) deletes it
    done = leadflow_cli("forget", "--retry-calendars", database_url=database_url,
                        tmp_path=tmp_path, LEADFLOW_CALDAV_URL=calendars.base_url,
                        LEADFLOW_CALDAV_USER=rs.USER, LEADFLOW_CALDAV_PASSWORD=rs.PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "1 meeting(s) of erased people deleted" in done.stdout
    assert events_naming(calendars, rep_id, PRIYA) == []
    assert bookings(tools) == []


def test_the_cli_says_when_a_meeting_could_not_be_deleted(
        tools: Toolbox, clock: FrozenClock, checkpoints: OpenCheckpoints,
        calendars: rs.Radicale, database_url: str, tmp_path: Path) -> None:
    lead_id, rep_id, uid = booked_lead(tools, clock, checkpoints)
    done = leadflow_cli("forget", PRIYA, "--by", "dpo", database_url=database_url,
                        tmp_path=tmp_path, LEADFLOW_CALDAV_TIMEOUT="2",
                        LEADFLOW_CALDAV_URL=f"http://127.0.0.1:{closed_port()}/leadflow/")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"erased: {lead_id}" in done.stdout and "0 calendar meeting(s)" in done.stdout
    assert f"the meeting of {lead_id}" in done.stderr and rep_id in done.stderr
    assert "retry-calendars" in done.stderr
    # without a calendar configured at all: still pending, still said
    bare = leadflow_cli("forget", "--retry-calendars", database_url=database_url,
                        tmp_path=tmp_path)
    assert bare.returncode == 1 and "LEADFLOW_CALDAV_URL" in bare.stderr
    assert [b["state"] for b in bookings(tools)] == ["erasing"]
    assert events_naming(calendars, rep_id, PRIYA) == [uid]
