"""A meeting booked at first touch, against a real CalDAV server (Radicale, started per test
by tests/radicale_server.py): slots that skip busy time and the hours outside the rep's
working day in their own zone, the first email that offers them, a booking that writes the
event (read back from the server) with the lead as attendee and satisfies the SLA, two
concurrent bookings of one slot (one wins, the other gets 409), a calendar that is down (the
lead is routed anyway, operations hear of it), and the HTTP routes and the CLI."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from leadflow.clock import FrozenClock
from leadflow.graph import build_graph
from leadflow.meetings import SlotTaken, book
from leadflow.runner import BatchRunner
from leadflow.settings import CalendarSettings
from leadflow.toolbox import Toolbox
from leadflow.tools.calendar import Calendars
from tests import radicale_server as rs
from tests.conftest import OpenCheckpoints, form_item
from tests.integration.test_api import start_server, stop_server, wait_for

pytestmark = pytest.mark.slow
NA_REPS = ("rep-na-01", "rep-na-02", "rep-na-03", "rep-na-04", "rep-na-05")


@pytest.fixture
def caldav(tmp_path: Path) -> Iterator[rs.Radicale]:
    yield from rs.running(tmp_path / "radicale")


def settings_for(server: rs.Radicale) -> CalendarSettings:
    return CalendarSettings(base_url=server.base_url, user=rs.USER, password=rs.PASSWORD,
                            timeout_s=5)


@pytest.fixture
def calendars(tools: Toolbox, caldav: rs.Radicale) -> rs.Radicale:
    """Every NA rep's calendar on the server; the toolbox reads them."""
    for rep_id in NA_REPS:
        caldav.make_calendar(rep_id)
    tools.calendar = Calendars(tools.reps, settings_for(caldav))
    return caldav


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


def run(tools: Toolbox, checkpoints: OpenCheckpoints, items: list[dict[str, Any]]
        ) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with checkpoints() as saver:
            return await BatchRunner(build_graph(saver, toolbox=tools), tools).run(items)

    return asyncio.run(go())


def colleague(n: int) -> dict[str, Any]:
    """Another hot inquiry from Lumen Health: the account's owner gets it too."""
    return form_item(f"F-{n}", **{"First Name": f"Sam{n}", "Last Name": "Okoro",
                                  "Work Email": f"sam{n}.okoro@lumenhealth.com"})


# ------------------------------------------------------------------------ slots
def test_slots_skip_busy_time_and_hours_outside_the_reps_day_in_its_zone(
        tools: Toolbox, clock: FrozenClock, caldav: rs.Radicale) -> None:
    caldav.make_calendar("rep-emea-01")  # Europe/Paris, Mon–Thu 08:30–16:30 (reps.yaml)
    tools.calendar = Calendars(tools.reps, settings_for(caldav))
    rep = tools.reps.get("rep-emea-01")
    assert rep is not None
    paris = ZoneInfo("Europe/Paris")
    # now: Thursday 2026-12-03 14:40 Paris; the buffer (60 min) leaves 16:00 as the day's last
    clock.advance(datetime(2026, 12, 3, 13, 40, tzinfo=UTC) - clock.now())
    caldav.busy("rep-emea-01", datetime(2026, 12, 7, 8, 0, tzinfo=UTC),  # Mon 09:00–10:00
                datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    caldav.busy("rep-emea-01", datetime(2026, 12, 7, 9, 0, tzinfo=UTC),  # transparent: free
                datetime(2026, 12, 7, 9, 30, tzinfo=UTC), summary="focus", transp="TRANSPARENT")
    found = tools.calendar.open_slots(rep, clock.now(), count=6)
    local = [s.start.astimezone(paris).strftime("%a %H:%M") for s in found]
    # Thursday's last slot, then no Friday (not a working day), no weekend, Monday from
    # 08:30 without the busy hour
    assert local == ["Thu 16:00", "Mon 08:30", "Mon 10:00", "Mon 10:30", "Mon 11:00",
                     "Mon 11:30"]
    assert found[0].as_dict()["local"] == "Thu 03 Dec 16:00 CET"
    # the whole horizon: working hours only, in Paris
    every = tools.calendar.open_slots(rep, clock.now(), count=1000)
    assert every and all(s.start.astimezone(paris).strftime("%a") in ("Mon", "Tue", "Wed", "Thu")
                         for s in every)
    assert all("08:30" <= s.start.astimezone(paris).strftime("%H:%M") <= "16:00" for s in every)


# ------------------------------------------------------------------------ first email
def test_a_hot_lead_is_offered_its_owners_next_slots_in_the_first_email(
        tools: Toolbox, clock: FrozenClock, checkpoints: OpenCheckpoints,
        calendars: rs.Radicale) -> None:
    [outcome] = run(tools, checkpoints, [form_item()])
    assert outcome["bant"]["tier"] == "hot" and outcome["status"] == "awaiting_followup"
    rep = tools.reps.get(outcome["assignment"]["rep_id"])
    assert rep is not None
    offered = tools.calendar.open_slots(rep, clock.now())
    chosen = next(d for d in tools.crm.drafts_for(outcome["lead_id"]) if d["chosen"])
    for slot in offered:
        assert slot.local("%a %d %b %H:%M") in chosen["body"]
    assert "calendar_unavailable" not in outcome["flags"]


def test_a_calendar_that_is_down_leaves_the_lead_routed_with_a_notice(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    tools.calendar = Calendars(tools.reps, CalendarSettings(
        base_url=f"http://127.0.0.1:{closed_port()}/leadflow/", timeout_s=2))
    [outcome] = run(tools, checkpoints, [form_item()])
    assert outcome["status"] == "awaiting_followup" and outcome["assignment"]["rep_id"]
    assert "calendar_unavailable" in outcome["flags"]
    notices = [n for n in tools.crm.notifications(outcome["lead_id"])
               if n["audience"] == "operations"]
    assert len(notices) == 1 and "Calendar unavailable" in notices[0]["subject"]
    chosen = next(d for d in tools.crm.drafts_for(outcome["lead_id"]) if d["chosen"])
    assert "has these times free" not in chosen["body"]  # a call proposed without times
    assert tools.crm.sla_for(outcome["lead_id"])["state"] == "open"


# ------------------------------------------------------------------------ booking
def event_of(server: rs.Radicale, rep_id: str, uid: str) -> Any:
    return server.calendar(rep_id).get_event_by_uid(uid).icalendar_instance.walk("VEVENT")[0]


def test_booking_over_http_writes_the_event_and_satisfies_the_sla(
        tools: Toolbox, tmp_path: Path, calendars: rs.Radicale) -> None:
    server, thread, url = start_server(tools, tmp_path)
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": "test-key-2f9c"},
                          timeout=30) as client:
            lead_id = client.post("/leads", json=form_item()).json()["lead_ids"][0]
            assert wait_for(client, lead_id)["status"] == "awaiting_followup"
            offered = client.get(f"/leads/{lead_id}/slots")
            assert offered.status_code == 200, offered.text
            slots = offered.json()
            rep_id, first = slots["rep_id"], slots["slots"][0]
            assert len(slots["slots"]) == 3 and slots["timezone"]

            booked = client.post(f"/leads/{lead_id}/book", json={"start": first["start"]})
            assert booked.status_code == 200, booked.text
            body = booked.json()
            assert body["slot"] == first and not body["already_booked"]
            assert body["outcome"]["status"] == "awaiting_followup"

            event = event_of(calendars, rep_id, body["event_uid"])
            attendee = event["ATTENDEE"]
            assert str(attendee) == "mailto:priya.nair@lumenhealth.com"
            assert attendee.params["CN"] == "Priya Nair"
            assert str(event["ORGANIZER"]).endswith("@leadflow.example")
            assert event.decoded("DTSTART") == datetime.fromisoformat(first["start"])
            assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)

            sla = tools.crm.sla_for(lead_id)
            assert sla["state"] == "touched" and sla["first_touch_at"] is not None
            assert [e["event_type"] for e in tools.crm.events_for(lead_id)] == ["meeting_booked"]
            # the booked slot is no longer offered; booking it again changes nothing
            after = client.get(f"/leads/{lead_id}/slots").json()["slots"]
            assert first["start"] not in [s["start"] for s in after]
            again = client.post(f"/leads/{lead_id}/book", json={"start": first["start"]})
            assert again.status_code == 200 and again.json()["already_booked"]
            assert len(tools.crm.events_for(lead_id)) == 1

            # not a slot: off the grid, outside working hours, no zone
            off_grid = datetime.fromisoformat(first["start"]) + timedelta(minutes=7)
            assert client.post(f"/leads/{lead_id}/book",
                               json={"start": off_grid.isoformat()}).status_code == 422
            assert client.post(f"/leads/{lead_id}/book",
                               json={"start": "2026-12-05T03:00:00Z"}).status_code == 422
            assert client.post(f"/leads/{lead_id}/book",
                               json={"start": "2026-12-08T15:00:00"}).status_code == 422
            assert client.get("/leads/LEAD-nosuchlead/slots").status_code == 404
            assert client.post("/leads/LEAD-nosuchlead/book",
                               json={"start": first["start"]}).status_code == 404
    finally:
        stop_server(server, thread)


def test_two_bookings_of_one_slot_over_http_one_succeeds_the_other_gets_409(
        tools: Toolbox, tmp_path: Path, calendars: rs.Radicale) -> None:
    server, thread, url = start_server(tools, tmp_path)
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": "test-key-2f9c"},
                          timeout=30) as client:
            first = client.post("/leads", json=form_item()).json()["lead_ids"][0]
            wait_for(client, first)
            second = client.post("/leads", json=colleague(2)).json()["lead_ids"][0]
            wait_for(client, second)
            owners = {tools.crm.get_assignment(lead)["rep_id"] for lead in (first, second)}
            assert len(owners) == 1  # the account's owner has both
            rep_id = owners.pop()
            start = client.get(f"/leads/{first}/slots").json()["slots"][0]["start"]

        codes: dict[str, int] = {}
        gate = threading.Barrier(2)

        def book_it(lead_id: str) -> None:
            with httpx.Client(base_url=url, headers={"X-API-Key": "test-key-2f9c"},
                              timeout=30) as own:
                gate.wait()
                codes[lead_id] = own.post(f"/leads/{lead_id}/book",
                                          json={"start": start}).status_code

        threads = [threading.Thread(target=book_it, args=(lead,)) for lead in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes.values()) == [200, 409], codes
        winner = next(lead for lead, code in codes.items() if code == 200)
        loser = next(lead for lead, code in codes.items() if code == 409)
        when = datetime.fromisoformat(start.replace("Z", "+00:00"))
        events = calendars.calendar(rep_id).search(start=when, end=when + timedelta(minutes=30),
                                                   event=True)
        assert len(events) == 1
        assert [b["lead_id"] for b in tools.crm.bookings_for(winner)] == [winner]
        assert tools.crm.bookings_for(loser) == []
        assert tools.crm.events_for(loser) == []  # the loser's SLA clock still runs
        assert tools.crm.sla_for(loser)["state"] == "open"
    finally:
        stop_server(server, thread)


@pytest.mark.db_backends
def test_concurrent_bookings_in_one_process_and_a_slot_busy_in_the_calendar(
        tools: Toolbox, clock: FrozenClock, checkpoints: OpenCheckpoints,
        calendars: rs.Radicale) -> None:
    outcomes = run(tools, checkpoints, [form_item(), colleague(3), colleague(4)])
    leads = [o["lead_id"] for o in outcomes]
    rep = tools.reps.get(outcomes[0]["assignment"]["rep_id"])
    assert rep is not None and {o["assignment"]["rep_id"] for o in outcomes} == {rep.id}
    slots = tools.calendar.open_slots(rep, clock.now())

    async def both() -> list[Any]:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            return await asyncio.gather(*(book(graph, tools, lead, slots[0].start)
                                          for lead in leads[:2]), return_exceptions=True)

    results = asyncio.run(both())
    assert sorted(type(r).__name__ for r in results) == ["SlotTaken", "dict"]
    # someone puts a meeting into the rep's calendar by hand: the re-check refuses the slot
    calendars.busy(rep.id, slots[1].start, slots[1].end, summary="dentist")

    async def late() -> Any:
        async with checkpoints() as saver:
            return await book(build_graph(saver, toolbox=tools), tools, leads[2], slots[1].start)

    with pytest.raises(SlotTaken, match="busy"):
        asyncio.run(late())
    assert tools.crm.bookings_for(leads[2]) == []  # the claim was released


def test_a_calendar_down_at_booking_time_books_nothing(
        tools: Toolbox, clock: FrozenClock, tmp_path: Path, calendars: rs.Radicale) -> None:
    server, thread, url = start_server(tools, tmp_path)
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": "test-key-2f9c"},
                          timeout=30) as client:
            lead_id = client.post("/leads", json=form_item()).json()["lead_ids"][0]
            wait_for(client, lead_id)
            start = client.get(f"/leads/{lead_id}/slots").json()["slots"][0]["start"]
            calendars.stop()
            assert client.get(f"/leads/{lead_id}/slots").status_code == 503
            down = client.post(f"/leads/{lead_id}/book", json={"start": start})
            assert down.status_code == 503 and "calendar" in down.json()["detail"]
            assert tools.crm.bookings_for(lead_id) == []
            assert wait_for(client, lead_id)["status"] == "awaiting_followup"
    finally:
        stop_server(server, thread)


# ------------------------------------------------------------------------ CLI
def test_the_cli_lists_slots_and_books_one(tmp_path: Path, calendars: rs.Radicale,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from leadflow.cli import app

    monkeypatch.setenv("LEADFLOW_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("LEADFLOW_CALDAV_URL", calendars.base_url)
    monkeypatch.setenv("LEADFLOW_CALDAV_USER", rs.USER)
    monkeypatch.setenv("LEADFLOW_CALDAV_PASSWORD", rs.PASSWORD)
    items = tmp_path / "lead.jsonl"
    items.write_text(json.dumps(form_item("F-CLI")) + "\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "out.jsonl"
    done = runner.invoke(app, ["run", "-i", str(items), "--out", str(out)])
    assert done.exit_code == 0, done.output
    lead_id = json.loads(out.read_text().splitlines()[0])["lead_id"]

    listed = runner.invoke(app, ["slots", lead_id])
    assert listed.exit_code == 0, listed.output
    start = listed.output.splitlines()[1].split()[0]
    assert start.endswith("Z")
    booked = runner.invoke(app, ["book", lead_id, start])
    assert booked.exit_code == 0, booked.output
    assert "meeting with" in booked.output and start in booked.output
    taken = runner.invoke(app, ["book", "LEAD-nosuchlead", start])
    assert taken.exit_code == 1 and "no lead" in taken.output
    bad = runner.invoke(app, ["book", lead_id, "tomorrow at ten"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    events = calendars.calendar(json.loads(out.read_text())["assignment"]["rep_id"]).search(
        event=True)
    assert len(events) == 1
