"""The meeting pieces that need no calendar server: working hours cut into slots in the rep's
own zone, busy time taken out, a slot's start read from a command line, reps.yaml's meeting
fields and their defaults, the first email's slot offer, and the CRM's one-claim-per-slot
guard under concurrent claims."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from leadflow.agents.outreach import SlotOffer, draft_rules, with_slots
from leadflow.config import CONFIG_DIR, WorkingHours, load_reps
from leadflow.settings import CalendarSettings
from leadflow.tools.calendar import Calendars, free, grid_slots, parse_moment
from leadflow.tools.crm import CrmStore
from leadflow.tools.reps import RepDirectory

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = WorkingHours(days=("mon", "tue", "wed", "thu"), start=time(8, 30), end=time(12, 0))


def test_slots_are_the_working_hours_of_the_reps_own_zone() -> None:
    # Thursday 2026-12-03 10:05 in Paris (09:05 UTC); Friday is not a working day here
    after = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)
    slots = grid_slots(WEEKDAYS, PARIS, 30, after, after + timedelta(days=5))
    local = [s.start.astimezone(PARIS) for s in slots]
    assert local[0] == datetime(2026, 12, 3, 10, 30, tzinfo=PARIS)  # the grid, not 10:05
    assert {d.strftime("%a") for d in local} == {"Thu", "Mon", "Tue"}  # no Fri, Sat, Sun
    assert all(time(8, 30) <= d.time() and d.time() <= time(11, 30) for d in local)
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
    assert [s.start for s in slots] == sorted(s.start for s in slots)


def test_a_day_that_changes_to_summer_time_keeps_its_local_hours() -> None:
    new_york = ZoneInfo("America/New_York")
    hours = WorkingHours(days=("sat", "sun"), start=time(9), end=time(10))
    # 2026-03-08 is the Sunday US clocks go forward: 09:00 is 14:00 UTC on Saturday, 13:00 on
    # Sunday
    slots = grid_slots(hours, new_york, 60, datetime(2026, 3, 7, tzinfo=UTC),
                       datetime(2026, 3, 10, tzinfo=UTC))
    assert [s.start.isoformat() for s in slots] == ["2026-03-07T14:00:00+00:00",
                                                     "2026-03-08T13:00:00+00:00"]
    assert {s.start.astimezone(new_york).hour for s in slots} == {9}


def test_busy_time_takes_out_every_slot_it_touches() -> None:
    after = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # Monday 08:00 Paris
    slots = grid_slots(WEEKDAYS, PARIS, 30, after, after + timedelta(hours=6))
    busy = [(datetime(2026, 12, 7, 8, 45, tzinfo=UTC), datetime(2026, 12, 7, 9, 10, tzinfo=UTC))]
    left = [s.start.astimezone(PARIS).strftime("%H:%M") for s in free(slots, busy)]
    # 09:45–10:10 Paris touches the 09:30 and the 10:00 slot; a slot that ends as the busy
    # time starts is free
    assert left == ["08:30", "09:00", "10:30", "11:00", "11:30"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-08T15:00:00Z", datetime(2026, 12, 8, 15, tzinfo=UTC)),
    ("2026-12-08T16:00:00+01:00", datetime(2026, 12, 8, 15, tzinfo=UTC)),
])
def test_a_slot_start_is_read_with_its_zone(text: str, expected: datetime) -> None:
    assert parse_moment(text) == expected


@pytest.mark.parametrize("text", ["2026-12-08T15:00:00", "next tuesday", ""])
def test_a_slot_start_without_zone_or_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_moment(text)


def test_reps_without_meeting_fields_get_the_defaults(tmp_path: Path) -> None:
    """A reps.yaml written before calendars (no `calendars`, no zones) still loads."""
    raw = yaml.safe_load((CONFIG_DIR / "reps.yaml").read_text(encoding="utf-8"))
    raw.pop("calendars")
    for rep in raw["reps"]:
        for key in ("timezone", "working_hours", "calendar"):
            rep.pop(key, None)
    old = tmp_path / "reps.yaml"
    old.write_text(yaml.safe_dump(raw), encoding="utf-8")
    directory = RepDirectory(load_reps(old))
    rep = directory.reps[0]
    assert directory.timezone(rep).key == "UTC"
    assert directory.working_hours(rep) == WorkingHours()
    assert directory.calendar_location(rep) == f"{rep.id}/"


def test_the_shipped_reps_have_zones_and_hours() -> None:
    directory = RepDirectory()
    paris = directory.get("rep-emea-01")
    assert paris is not None and directory.timezone(paris).key == "Europe/Paris"
    assert directory.working_hours(paris).days == ("mon", "tue", "wed", "thu")
    berlin = directory.get("rep-emea-02")  # no zone of its own: its region's
    assert berlin is not None and directory.timezone(berlin).key == "Europe/Berlin"


def test_an_unknown_zone_or_inverted_hours_are_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load((CONFIG_DIR / "reps.yaml").read_text(encoding="utf-8"))
    raw["reps"][0]["timezone"] = "Mars/Olympus_Mons"
    bad = tmp_path / "reps.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        load_reps(bad)
    with pytest.raises(ValueError, match="after start"):
        WorkingHours(start=time(17), end=time(9))


def test_no_slots_while_the_rep_is_out_of_office() -> None:
    directory = RepDirectory()
    away = directory.get("rep-na-05")  # out of office 2026-11-23 … 2026-12-04 (reps.yaml)
    assert away is not None and away.out_of_office is not None
    calendars = Calendars(directory, CalendarSettings())
    slots = calendars.candidates(away, datetime(2026, 12, 2, 12, tzinfo=UTC))
    first = slots[0].start.astimezone(directory.timezone(away))
    assert first.date().isoformat() == "2026-12-07" and first.strftime("%H:%M") == "09:00"
    inactive = directory.get("rep-emea-04")
    assert inactive is not None and not inactive.active
    assert calendars.candidates(inactive, datetime(2026, 12, 2, 12, tzinfo=UTC)) == []


def test_calendar_urls_and_logins_service_account_or_per_rep() -> None:
    directory = RepDirectory()
    rep = directory.get("rep-na-01")
    assert rep is not None
    off = Calendars(directory, CalendarSettings())
    assert not off.enabled(rep)  # nothing configured: no slots, no calendar calls
    on = Calendars(directory, CalendarSettings(base_url="https://dav.example.org/sales",
                                               user="svc", password="pw"))
    assert on.url(rep) == "https://dav.example.org/sales/rep-na-01/"
    settings = CalendarSettings(user="svc", password="pw",
                                per_rep={"REP_NA_01": ("alicia", "her-pw")})
    assert settings.login_for("rep-na-01") == ("alicia", "her-pw")
    assert settings.login_for("rep-na-02") == ("svc", "pw")


def test_calendar_logins_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_CALDAV_URL", "https://dav.example.org/")
    monkeypatch.setenv("LEADFLOW_CALDAV_USER", "svc")
    monkeypatch.setenv("LEADFLOW_CALDAV_PASSWORD", "svc-pw")
    monkeypatch.setenv("LEADFLOW_CALDAV_PASSWORD_REP_EMEA_02", "lukas-pw")
    settings = CalendarSettings.from_env()
    assert settings.login_for("rep-emea-02") == ("svc", "lukas-pw")
    assert settings.login_for("rep-emea-03") == ("svc", "svc-pw")


OFFER = SlotOffer(rep_id="rep-x", timezone="Europe/Paris",
                  times=["Tue 08 Dec 10:00 CET", "Tue 08 Dec 10:30 CET"],
                  starts=["2026-12-08T09:00:00Z", "2026-12-08T09:30:00Z"],
                  sentence="Nora has these times free (Europe/Paris): Tue 08 Dec 10:00 CET; "
                           "Tue 08 Dec 10:30 CET. Would one of them suit you?")
STATE = {"lead": {"contact": {"first_name": "Tomasz"}, "company": {"name": "Kestrel Freight"},
                  "inquiry": "We lose track of pallets between depots and want that fixed."}}


def test_every_rules_draft_ends_with_the_slots_it_offers() -> None:
    for style in ("data_driven", "emotional", "benefit_focused"):
        body = draft_rules(style, STATE, OFFER).body
        assert body.endswith(OFFER.sentence)
        assert all(t in body for t in OFFER.times)
        assert OFFER.sentence not in draft_rules(style, STATE).body  # no slots: as before


def test_an_llm_draft_that_left_out_the_times_gets_them() -> None:
    from leadflow.agents.outreach import OutreachDraft

    named = OutreachDraft(subject="s", body="Would Tue 08 Dec 10:00 CET or Tue 08 Dec 10:30 "
                                            "CET work for you?")
    assert with_slots(named, OFFER) == named
    vague = OutreachDraft(subject="s", body="Shall we talk this week?")
    assert with_slots(vague, OFFER).body.endswith(OFFER.sentence)


@pytest.mark.db_backends
def test_of_many_concurrent_claims_of_one_slot_exactly_one_wins(database_url: str) -> None:
    crm = CrmStore(database_url)
    start = datetime(2026, 12, 8, 9, tzinfo=UTC)
    now = datetime(2026, 12, 4, 9, tzinfo=UTC)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def claim(n: int) -> None:
        barrier.wait()
        results.append(crm.claim_slot(rep_id="rep-x", start=start,
                                      end=start + timedelta(minutes=30), lead_id=f"LEAD-{n}",
                                      event_uid=f"u{n}", now=now).outcome)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(results) == ["claimed"] + ["taken"] * 5
        # a claim its booker abandoned (pending, older than the stale limit) is taken over
        later = now + timedelta(hours=1)
        winner = next(b for n in range(6) for b in crm.bookings_for(f"LEAD-{n}"))
        again = crm.claim_slot(rep_id="rep-x", start=start, end=start + timedelta(minutes=30),
                               lead_id="LEAD-late", event_uid="u-late", now=later)
        assert again.outcome == "claimed" and winner["state"] == "pending"
        # a confirmed booking is never taken over
        crm.confirm_booking("rep-x", start, "LEAD-late", "https://dav/x.ics", later)
        assert crm.claim_slot(rep_id="rep-x", start=start, end=start + timedelta(minutes=30),
                              lead_id="LEAD-other", event_uid="u-o",
                              now=later + timedelta(days=1)).outcome == "taken"
        assert crm.claim_slot(rep_id="rep-x", start=start, end=start + timedelta(minutes=30),
                              lead_id="LEAD-late", event_uid="u-late",
                              now=later).booking["state"] == "booked"
    finally:
        crm.close()
