"""A meeting booked at first touch: a routed lead's open slots with its owner, and a booking
that writes the owner's calendar and records `meeting_booked` the way POST /events does
(so the SLA clock counts it as the first touch and the follow-up goes on waiting).

Two bookings of one slot never both succeed: the CRM's unique (rep, slot start) is claimed
first (only one insert wins; the other is refused before the calendar is touched), then the
owner's free/busy is read again (a meeting put in the calendar by hand, or by a booking that
came another way, refuses the slot too), and only then is the event written. A calendar
that fails on the way releases the claim and says so (`CalendarDown`); the lead stays as it
was, waiting for follow-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from leadflow.config import Rep
from leadflow.context import LeadflowContext
from leadflow.followup import Wake, pending_wait, wake_lead
from leadflow.identity import thread_config
from leadflow.toolbox import Toolbox
from leadflow.tools.calendar import CalendarUnavailable, Slot
from leadflow.tools.crm.bookings import STALE_CLAIM

Graph = CompiledStateGraph[Any, Any, Any, Any]


class BookingRefused(Exception):
    """A booking or a slot list that cannot be given; `status` is its HTTP status."""

    status = 409


class NoSuchLead(BookingRefused):
    status = 404


class NotBookable(BookingRefused):
    """The lead has no rep with a calendar, no address to invite, or is not waiting."""


class SlotTaken(BookingRefused):
    """Another booking holds the slot, or the owner's calendar shows it busy."""


class NotASlot(BookingRefused):
    """The time given is not one of the owner's slots (off the grid, outside working
    hours, in the past)."""

    status = 422


class CalendarDown(BookingRefused):
    status = 503


@dataclass(frozen=True)
class Owner:
    rep: Rep
    values: dict[str, Any]


async def _owner(graph: Graph, tools: Toolbox, lead_id: str) -> Owner:
    snapshot = await graph.aget_state(thread_config(lead_id))
    values = dict(snapshot.values or {})
    if not values:
        raise NoSuchLead(f"no lead {lead_id}")
    if pending_wait(snapshot) is None:
        raise NotBookable(f"{lead_id} is not waiting for follow-up "
                          f"(status {values.get('status')})")
    rep_id = (values.get("assignment") or {}).get("rep_id") or ""
    rep = tools.reps.get(rep_id)
    if rep is None:
        raise NotBookable(f"{lead_id} is not owned by a rep (owner {rep_id or 'none'})")
    if not tools.calendar.enabled(rep):
        raise NotBookable(f"{rep.id} has no calendar (set LEADFLOW_CALDAV_URL)")
    return Owner(rep, values)


async def lead_slots(graph: Graph, tools: Toolbox, lead_id: str,
                     count: int | None = None) -> dict[str, Any]:
    """The owner's next open slots now (GET /leads/{id}/slots, `leadflow slots`)."""
    owner = await _owner(graph, tools, lead_id)
    try:
        slots = await asyncio.to_thread(tools.calendar.open_slots, owner.rep,
                                        tools.clock.now(), count)
    except CalendarUnavailable as exc:
        raise CalendarDown(str(exc)) from exc
    fmt = tools.reps.calendar_rules.local_format
    return {"lead_id": lead_id, "rep_id": owner.rep.id,
            "timezone": tools.reps.timezone(owner.rep).key,
            "slot_minutes": tools.reps.calendar_rules.slot_minutes,
            "slots": [slot.as_dict(fmt) for slot in slots]}


def event_uid(lead_id: str, slot: Slot) -> str:
    return f"{lead_id}-{slot.start:%Y%m%dT%H%M%SZ}@leadflow"


async def book(graph: Graph, tools: Toolbox, lead_id: str, start: datetime,
               context: LeadflowContext | None = None) -> dict[str, Any]:
    """Book the owner's slot starting at `start` for the lead (POST /leads/{id}/book,
    `leadflow book`); returns the booking and the lead's outcome afterwards."""
    owner = await _owner(graph, tools, lead_id)
    rep, now = owner.rep, tools.clock.now()
    slot = tools.calendar.slot_at(rep, start, now)
    if slot is None:
        rules = tools.reps.calendar_rules
        raise NotASlot(f"{start.isoformat()} is not one of {rep.id}'s slots: a "
                       f"{rules.slot_minutes}-minute slot within their working hours "
                       f"({tools.reps.timezone(rep).key}), not in the past")
    contact = (owner.values.get("lead") or {}).get("contact") or {}
    if not contact.get("email"):
        raise NotBookable(f"{lead_id} has no email address to invite")
    uid = event_uid(lead_id, slot)
    claim = await asyncio.to_thread(
        tools.crm.claim_slot, rep_id=rep.id, start=slot.start, end=slot.end,
        lead_id=lead_id, event_uid=uid, now=now)
    fmt = tools.reps.calendar_rules.local_format
    answer = {"lead_id": lead_id, "rep_id": rep.id, "slot": slot.as_dict(fmt),
              "event_uid": uid}
    if claim.outcome == "taken":
        raise SlotTaken(f"{rep.id}'s slot at {slot.as_dict()['start']} is already booked")
    if claim.outcome == "own":
        if claim.booking["state"] == "booked":  # the same booking again: nothing to do
            return {**answer, "event_url": claim.booking["event_url"], "already_booked": True,
                    "outcome": None}
        if claim.booking["created_at"] > now - STALE_CLAIM:
            raise SlotTaken(f"a booking of {lead_id} for this slot is in progress")
    try:
        url = await asyncio.to_thread(_write_event, tools, rep, slot, uid, owner.values, now)
    except BaseException:
        await asyncio.to_thread(tools.crm.release_slot, rep.id, slot.start, lead_id)
        raise
    await asyncio.to_thread(tools.crm.confirm_booking, rep.id, slot.start, lead_id, url, now)
    wake = Wake(event="meeting_booked", at=now.isoformat(), rep_id=rep.id)
    try:
        outcome = await wake_lead(graph, lead_id, wake, tools, context)
    except ValueError:  # closed between the check and now: the meeting stands, say so
        await asyncio.to_thread(tools.crm.record_event, lead_id, "meeting_booked", now,
                                {"rep_id": rep.id})
        outcome = None
    return {**answer, "event_url": url, "already_booked": False, "outcome": outcome}


def _write_event(tools: Toolbox, rep: Rep, slot: Slot, uid: str, values: dict[str, Any],
                 now: datetime) -> str:
    """Re-check the owner's free/busy, then write the event (blocking: run in a thread)."""
    lead = values.get("lead") or {}
    contact, company = lead.get("contact") or {}, lead.get("company") or {}
    rules = tools.reps.calendar_rules
    try:
        # busy, and not by our own earlier write of this booking
        if not tools.calendar.is_free(rep, slot) and tools.calendar.event(rep, uid) is None:
            raise SlotTaken(f"{rep.id}'s calendar shows {slot.as_dict()['start']} busy")
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        company_name = company.get("name") or company.get("domain") or name or "lead"
        return tools.calendar.create_event(
            rep, slot, uid=uid,
            summary=rules.event_title.format(company=company_name, rep_name=rep.name,
                                             lead_name=name or contact.get("email")),
            description=f"Booked by leadflow for {values.get('lead_id')} "
                        f"({(values.get('bant') or {}).get('tier')} lead).",
            attendee_email=str(contact["email"]), attendee_name=name or None, now=now)
    except CalendarUnavailable as exc:
        raise CalendarDown(str(exc)) from exc
