"""Meeting slots taken by leads (`MeetingBooking`): the database's half of "two bookings of
one slot never both succeed".

A booking first claims (rep, slot start) with an insert the unique key lets only one writer
make, then writes the calendar, then confirms; a failed calendar write releases the claim.
A claim left `pending` by a process that died mid-booking is taken over once it is older
than `stale_after` (the calendar's free/busy re-check still guards that slot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select, update

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import MeetingBooking

STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    """`claimed`: this booking holds the slot now; `own`: this lead held it already (a retry;
    `booking['state']` says how far it got); `taken`: another lead has it."""

    outcome: Literal["claimed", "own", "taken"]
    booking: dict[str, Any]


class BookingStore(StoreBase):
    def claim_slot(self, *, rep_id: str, start: datetime, end: datetime, lead_id: str,
                   event_uid: str, now: datetime,
                   stale_after: timedelta = STALE_CLAIM) -> Claim:
        values = {"rep_id": rep_id, "slot_start": start, "slot_end": end, "lead_id": lead_id,
                  "state": "pending", "event_uid": event_uid, "created_at": now}
        for _ in range(2):
            with self.transaction() as conn:
                if self._insert_ignore(conn, MeetingBooking.__table__, values):
                    return Claim("claimed", self._booking(conn, rep_id, start))
                held = self._booking(conn, rep_id, start)
                if held["lead_id"] == lead_id:
                    return Claim("own", held)
                if held["state"] != "pending" or held["created_at"] > now - stale_after:
                    return Claim("taken", held)
                # a claim its booker never finished: free it, then claim it again
                conn.execute(delete(MeetingBooking).where(
                    MeetingBooking.id == held["id"], MeetingBooking.state == "pending"))
        return Claim("taken", held)

    def confirm_booking(self, rep_id: str, start: datetime, lead_id: str, event_url: str,
                        now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(update(MeetingBooking).where(
                MeetingBooking.rep_id == rep_id, MeetingBooking.slot_start == start,
                MeetingBooking.lead_id == lead_id).values(
                state="booked", event_url=event_url, booked_at=now))

    def release_slot(self, rep_id: str, start: datetime, lead_id: str) -> None:
        """Give up a claim whose calendar write did not happen (only a pending one)."""
        with self.transaction() as conn:
            conn.execute(delete(MeetingBooking).where(
                MeetingBooking.rep_id == rep_id, MeetingBooking.slot_start == start,
                MeetingBooking.lead_id == lead_id, MeetingBooking.state == "pending"))

    def bookings_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(MeetingBooking.__table__).where(
                MeetingBooking.lead_id == lead_id).order_by(MeetingBooking.slot_start))
            return [dict(r) for r in rows.mappings()]

    @staticmethod
    def _booking(conn: Any, rep_id: str, start: datetime) -> dict[str, Any]:
        row = conn.execute(select(MeetingBooking.__table__).where(
            MeetingBooking.rep_id == rep_id,
            MeetingBooking.slot_start == start)).mappings().one()
        return dict(row)
