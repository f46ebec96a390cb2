"""Erasing a person (`leadflow forget`, `DELETE /contacts/{email}`) and applying retention
(`leadflow retention apply`): the CRM's rows and every checkpoint of the person's threads.

The person's leads are held (their leases, `tools/crm/leases.py`) while they are erased, so
a runner busy with one of them finishes first and none writes them back halfway. The
checkpoints go first, then the CRM's rows and the audit entry in one transaction: an
erasure that fails half-way is simply run again (the CRM still finds the person).

Their meetings go too: each booking of theirs (`meeting_bookings`) turns `erasing` in the
CRM's transaction, then its event is deleted from the rep's calendar and the row dropped. A
calendar that cannot be reached (down, no LEADFLOW_CALDAV_URL here, the rep gone from
reps.yaml) leaves the row `erasing`: the erasure says so (`meetings_pending`), operations
get a notice once per lead, and every later erasure, retention run and
`leadflow forget --retry-calendars` tries again first. Nothing is left silently.

The company knowledge base (`tools/knowledge_base.py`) holds no person: it is built from
the bundled company profiles and only ever read, so there is nothing of theirs to erase.
"""

from __future__ import annotations

import asyncio
import calendar
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from leadflow.checkpoint import delete_threads, settle_wal
from leadflow.identity import thread_config
from leadflow.tools.calendar import Calendars, CalendarUnavailable, Slot
from leadflow.tools.crm import CrmStore
from leadflow.tools.crm.erasure import THREAD_PREFIX, Person
from leadflow.tools.crm.leases import held_lead
from leadflow.tools.notifier import Notice, Notifier
from leadflow.tools.reps import RepDirectory

# How often the person is looked up again when a new item of theirs arrived while their
# leads were being taken.
_PASSES = 5


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did (what the audit entry `erasures` row `erasure_id` records)."""

    erasure_id: int
    lead_ids: tuple[str, ...]
    threads: int  # checkpointed threads deleted
    rows: dict[str, int]  # CRM table → rows anonymised
    meetings: MeetingErasure | None = None  # the calendar events deleted, and those left

    def as_dict(self) -> dict[str, Any]:
        meetings = self.meetings or MeetingErasure(0, ())
        return {"erasure_id": self.erasure_id, "lead_ids": list(self.lead_ids),
                "threads": self.threads, "rows": self.rows,
                "meetings_deleted": meetings.deleted,
                "meetings_pending": [dict(p) for p in meetings.pending]}


@dataclass(frozen=True)
class MeetingErasure:
    """Calendar events of erased people: how many were deleted now, and those still in a
    calendar ({lead_id, rep_id, start, why}), to be retried."""

    deleted: int
    pending: tuple[dict[str, str], ...]


def erase_meetings(crm: CrmStore, calendars: Calendars, notifier: Notifier,
                   now: datetime) -> MeetingErasure:
    """Delete every `erasing` booking's event from its rep's calendar (blocking: run in a
    thread). One that cannot be deleted stays `erasing` and operations hear of it once."""
    deleted, pending = 0, []
    for booking in crm.meetings_to_erase():
        rep = calendars.reps.get(booking["rep_id"])
        start = Slot(booking["slot_start"], booking["slot_end"], "UTC").as_dict()["start"]
        try:
            if rep is None:
                raise CalendarUnavailable(f"{booking['rep_id']} is no longer in reps.yaml")
            if not calendars.enabled(rep):
                raise CalendarUnavailable(f"{rep.id} has no calendar configured here "
                                          "(set LEADFLOW_CALDAV_URL)")
            calendars.delete_event(rep, booking["event_uid"])
        except CalendarUnavailable as exc:
            pending.append({"lead_id": booking["lead_id"], "rep_id": booking["rep_id"],
                            "start": start, "why": str(exc)})
            notifier.send(Notice(
                audience="operations",
                subject=f"Meeting of erased lead {booking['lead_id']} still in "
                        f"{booking['rep_id']}'s calendar",
                body=f"The person was erased but their meeting at {start} could not be "
                     f"deleted from {booking['rep_id']}'s calendar: {exc}. It is retried by "
                     "every later erasure and by `leadflow forget --retry-calendars`."),
                lead_id=booking["lead_id"], step="erasure:calendar", now=now)
            continue
        crm.meeting_erased(booking["id"])
        deleted += 1
    return MeetingErasure(deleted, tuple(pending))


async def retry_meeting_erasures(crm: CrmStore, *, now: datetime,
                                 calendars: Calendars | None = None,
                                 notifier: Notifier | None = None) -> MeetingErasure:
    """`leadflow forget --retry-calendars`: the calendar deletions earlier erasures left."""
    calendars = calendars or Calendars(RepDirectory())
    notifier = notifier or Notifier(crm, calendars.reps)
    return await asyncio.to_thread(erase_meetings, crm, calendars, notifier, now)


def is_lead_id(who: str) -> bool:
    return who.strip().upper().startswith(THREAD_PREFIX)


async def forget(crm: CrmStore, saver: BaseCheckpointSaver[Any], who: str, *,
                 requested_by: str, now: datetime, calendars: Calendars | None = None,
                 notifier: Notifier | None = None) -> ErasureReport | None:
    """Erase the person with this email address or lead id; None when nobody is known by
    it (neither the CRM nor a checkpointed thread). `calendars` (default: from the
    environment) is where their meetings are deleted."""
    person = await asyncio.to_thread(crm.find_person, who)
    if person is None and is_lead_id(who):
        thread = THREAD_PREFIX + who.strip()[len(THREAD_PREFIX):]
        if await saver.aget_tuple(thread_config(thread)) is not None:
            person = Person((), (thread,), (), ())  # a thread that never reached the CRM
    if person is None:
        return None

    def again(known: Person) -> Person:
        return crm.find_person(who) or known

    report = await erase(crm, saver, person, again, requested_by=requested_by, now=now,
                         reason="request")
    meetings = await retry_meeting_erasures(crm, now=now, calendars=calendars,
                                            notifier=notifier)
    await settle(crm, saver)
    return replace(report, meetings=meetings)


async def settle(crm: CrmStore, saver: BaseCheckpointSaver[Any]) -> None:
    """Empty both SQLite write-ahead logs after erasing (no-ops on PostgreSQL)."""
    await asyncio.to_thread(crm.settle_wal)
    await settle_wal(saver)


async def erase(crm: CrmStore, saver: BaseCheckpointSaver[Any], person: Person,
                again: Any, *, requested_by: str, now: datetime,
                reason: str) -> ErasureReport:
    """Hold every thread of the person's, look them up once more (an item may have come
    in meanwhile), delete the checkpoints, anonymise the CRM rows, write the audit."""
    for _ in range(_PASSES):
        async with AsyncExitStack() as held:
            # An item's own thread before its lead's: a runner holding an item's thread
            # takes its lead's next (repeat.py), never the other way round.
            leads = set(person.lead_ids)
            for thread in sorted(person.threads, key=lambda t: (t in leads, t)):
                await held.enter_async_context(held_lead(crm, thread))
            current: Person = await asyncio.to_thread(again, person)
            if not set(current.threads) <= set(person.threads):
                person = current  # a new item arrived: take its thread too, from the start
                continue
            deleted = await delete_threads(saver, current.threads)
            erasure_id, rows = await asyncio.to_thread(
                crm.erase_person, current, now=now, requested_by=requested_by,
                reason=reason, threads_deleted=deleted)
        return ErasureReport(erasure_id, current.lead_ids, deleted, rows)
    raise RuntimeError(f"new items kept arriving for {', '.join(person.lead_ids)}; "
                       "try the erasure again")


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the day clamped to the month)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class RetentionResult:
    idle_before: datetime
    lead_ids: list[str]  # anonymised (or, in a dry run, that would be)
    erasures: list[ErasureReport]
    meetings: MeetingErasure | None = None  # calendar events deleted / still to delete


async def apply_retention(crm: CrmStore, saver: BaseCheckpointSaver[Any], months: int, *,
                          now: datetime, requested_by: str, dry_run: bool = False,
                          batch: int = 500, calendars: Calendars | None = None,
                          notifier: Notifier | None = None) -> RetentionResult:
    """Anonymise every lead not converted (no meeting booked, not closed won) and idle for
    `months` months: each lead alone, with its threads, and its contact unless another
    live lead shares it; one audit entry per lead (reason `retention`)."""
    idle_before = months_before(now, months)
    if dry_run:
        found = await asyncio.to_thread(crm.retention_candidates, idle_before, 1_000_000_000)
        return RetentionResult(idle_before, found, [])
    done: list[ErasureReport] = []
    while True:
        found = await asyncio.to_thread(crm.retention_candidates, idle_before, batch)
        if not found:
            # a lead with a meeting is converted, never retained; a claim left pending is
            # not, and earlier erasures may have left events behind
            meetings = await retry_meeting_erasures(crm, now=now, calendars=calendars,
                                                    notifier=notifier)
            await settle(crm, saver)
            return RetentionResult(idle_before, [lid for r in done for lid in r.lead_ids],
                                   done, meetings)
        for lead_id in found:
            person = await asyncio.to_thread(crm.lead_person, lead_id)
            if person is None:
                continue

            def again(known: Person, lead_id: str = lead_id) -> Person:
                return crm.lead_person(lead_id) or known

            done.append(await erase(crm, saver, person, again, requested_by=requested_by,
                                    now=now, reason="retention"))


