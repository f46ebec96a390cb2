"""Forgetting a person in the CRM: find every lead, thread and contact of theirs, and
anonymise each row that holds their data in one transaction, with an audit entry of the
erasure itself (`erasures`: who asked, when, which leads, rows per table; never the data).

Anonymised, not deleted: a lead keeps its id, status, tier, BANT total, channel, times,
rep, events and step timings, so the dashboard counts it as before. What names the person
goes: names, email, phone and title become `[erased]` where the metrics read whether a field
was filled (the outcome record, the lead record, the message log's lead data) and NULL in
the contacts table; free text (the inquiry, notes, message notes, notification bodies,
outreach drafts, raw items in queue payloads) becomes `[erased]`; every other string of the
person's rows is scrubbed of their email, phone and names. `leads.email_key` becomes NULL
rather than a salted hash: a hash of a known address would still find the person again
(pseudonymous data is personal data), and a person who writes again after asking to be
forgotten is rightly a new lead.

The checkpoints of the person's threads are deleted by `leadflow.tools.erasure`, which also
holds the leads' leases while this runs. So are the meetings booked for their leads in the
reps' calendars (the events name them as attendee): the same transaction that anonymises
the rows turns each of their `meeting_bookings` into `erasing`, the durable to-do of the
calendar deletions that follow; a deleted event removes its row (the slot is free again), and
one whose calendar could not be reached stays `erasing` until a later run deletes it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.leads import name_key
from leadflow.tools.crm.schema import (
    Account,
    Assignment,
    Contact,
    EngagementEvent,
    Erasure,
    Lead,
    LeadSource,
    MeetingBooking,
    MessageLog,
    Notification,
    OutreachDraftRow,
    QueueItem,
    RepStats,
    SlaClock,
    column_length,
)
from leadflow.tools.crm.summaries import RUNNING_CLOCK, retract_facts

ERASED = "[erased]"
ERASING = "erasing"  # a booking whose event is still to be deleted from the rep's calendar
THREAD_PREFIX = "LEAD-"
# Contact fields that name nobody (categories the metrics and routing read): kept.
CONTACT_CATEGORIES = frozenset({"seniority", "department"})
CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "title")
FREE_TEXT = ("inquiry", "notes")  # of a lead record


@dataclass(frozen=True)
class Person:
    """Everything of one person's in the CRM, found by email or lead id."""

    lead_ids: tuple[str, ...]  # their leads (canonical ids)
    threads: tuple[str, ...]  # every thread id: each lead's, and each inbound item's own
    contact_ids: tuple[int, ...]  # contact rows to blank
    needles: tuple[str, ...]  # their email, phone and names, to scrub from kept strings


class ErasureStore(StoreBase):
    """Finding a person's rows and anonymising them; the erasure audit."""

    # ------------------------------------------------------------------ finding
    def find_person(self, who: str) -> Person | None:
        """The person with this email address (any case), or of this lead id (a lead's,
        or one of its items' own `LEAD-<fingerprint>`); None when the CRM knows neither."""
        who = who.strip()
        with self.engine.connect() as conn:
            if who.upper().startswith(THREAD_PREFIX):
                return self._person_of_lead(conn, THREAD_PREFIX + who[len(THREAD_PREFIX):])
            email = who.lower()
            contact_ids = set(conn.execute(
                select(Contact.id).where(Contact.email == email)).scalars())
            lead_ids = set(conn.execute(select(Lead.id).where(Lead.email_key == email))
                           .scalars())
            if not contact_ids and not lead_ids:
                return None
            return self._person(conn, lead_ids, contact_ids, extra_needles=(email,))

    def lead_person(self, lead_id: str) -> Person | None:
        """One lead alone (retention): its threads, and its contact only when no other
        lead that is not erased shares it."""
        with self.engine.connect() as conn:
            contact_id = conn.execute(select(Lead.contact_id).where(Lead.id == lead_id)).first()
            if contact_id is None:
                return None
            contacts = {int(contact_id[0])} if contact_id[0] is not None else set()
            shared = contacts and conn.execute(select(func.count()).select_from(Lead).where(
                Lead.contact_id.in_(contacts), Lead.id != lead_id,
                Lead.erased_at.is_(None))).scalar()
            return Person((lead_id,), self._threads(conn, {lead_id}),
                          () if shared else tuple(contacts),
                          self._needles(conn, {lead_id}, contacts, ()))

    def _person_of_lead(self, conn: Connection, lead_id: str) -> Person | None:
        row = conn.execute(select(Lead.id, Lead.contact_id).where(Lead.id == lead_id)).first()
        if row is None:  # an item's own thread, merged into its lead
            owner = conn.execute(select(LeadSource.lead_id).where(
                LeadSource.fingerprint == lead_id[len(THREAD_PREFIX):])).scalar()
            if owner is not None:
                row = conn.execute(select(Lead.id, Lead.contact_id)
                                   .where(Lead.id == owner)).first()
        if row is None:  # no lead row (never captured): what the CRM holds under the id
            if any(conn.execute(select(func.count()).select_from(model).where(
                    model.lead_id == lead_id)).scalar()
                   for model in (QueueItem, MessageLog, Notification)):
                return Person((), (lead_id,), (), ())
            return None
        contact_ids = {int(row.contact_id)} if row.contact_id is not None else set()
        return self._person(conn, {row.id}, contact_ids, extra_needles=())

    def _person(self, conn: Connection, lead_ids: set[str], contact_ids: set[int],
                extra_needles: Iterable[str]) -> Person:
        if contact_ids:  # every lead of theirs, also those that came without the email
            lead_ids |= set(conn.execute(select(Lead.id).where(
                Lead.contact_id.in_(contact_ids))).scalars())
        contact_ids |= {int(c) for c in conn.execute(select(Lead.contact_id).where(
            Lead.id.in_(lead_ids))).scalars() if c is not None}
        return Person(tuple(sorted(lead_ids)), self._threads(conn, lead_ids),
                      tuple(sorted(contact_ids)),
                      self._needles(conn, lead_ids, contact_ids, extra_needles))

    @staticmethod
    def _threads(conn: Connection, lead_ids: set[str]) -> tuple[str, ...]:
        fingerprints = conn.execute(select(LeadSource.fingerprint).where(
            LeadSource.lead_id.in_(lead_ids))).scalars()
        return tuple(sorted(lead_ids | {THREAD_PREFIX + f for f in fingerprints}))

    @staticmethod
    def _needles(conn: Connection, lead_ids: set[str], contact_ids: set[int],
                 extra: Iterable[str]) -> tuple[str, ...]:
        contacts: list[Mapping[str, Any]] = [dict(r) for r in conn.execute(
            select(*(getattr(Contact, c) for c in CONTACT_COLUMNS))
            .where(Contact.id.in_(contact_ids))).mappings()]
        for record, outcome, email_key in conn.execute(
                select(Lead.record, Lead.outcome, Lead.email_key)
                .where(Lead.id.in_(lead_ids))):
            contacts += [c for c in ((record or {}).get("contact"),
                                     (outcome or {}).get("contact")) if isinstance(c, dict)]
            if email_key:
                contacts.append({"email": email_key})
        found = set(extra)
        for contact in contacts:
            values = {k: contact.get(k) for k in ("email", "phone", "first_name", "last_name")}
            found.update(str(v) for v in values.values() if v and v != ERASED)
            phone = str(values["phone"] or "")
            if phone.startswith("+"):
                found.add(phone[1:])
            if values["first_name"] and values["last_name"]:
                found.add(f"{values['first_name']} {values['last_name']}")
        return tuple(sorted((n for n in found if len(n.strip()) >= 2), key=len, reverse=True))

    # ------------------------------------------------------------------ anonymising
    def erase_person(self, person: Person, *, now: datetime, requested_by: str,
                     reason: str, threads_deleted: int) -> tuple[int, dict[str, int]]:
        """Anonymise every row of the person's in one transaction and write the audit
        entry; (the entry's id, rows touched per table)."""
        scrub = Scrubber(person.needles)
        leads, threads = list(person.lead_ids), list(person.threads)
        rows: Counter[str] = Counter()
        # SQLite zeroes what the updates replace (secure_delete, set on every connection)
        with self.transaction() as conn:
            self._erase_rows(conn, leads, threads, list(person.contact_ids), scrub, now, rows)
            erasure_id = conn.execute(insert(Erasure).values(
                erased_at=now, requested_by=requested_by[:column_length(
                    Erasure, "requested_by")], reason=reason, lead_ids=leads,
                threads=threads_deleted, rows=dict(sorted(rows.items())))
                .returning(Erasure.id)).scalar_one()
        return int(erasure_id), dict(sorted(rows.items()))

    def _erase_rows(self, conn: Connection, leads: list[str], threads: list[str],
                    contacts: list[int], scrub: Scrubber, now: datetime,
                    rows: Counter[str]) -> None:
        for row in conn.execute(select(Lead.id, Lead.record, Lead.outcome, Lead.status_reason)
                                .where(Lead.id.in_(leads))).all():
            conn.execute(update(Lead).where(Lead.id == row.id).values(
                email_key=None, record=anonymised_record(row.record or {}, scrub),
                outcome=None if row.outcome is None else anonymised_outcome(row.outcome, scrub),
                status_reason=scrub(row.status_reason), erased_at=now))
            rows["leads"] += 1
        self._erase_accounts(conn, leads, scrub, rows)
        if contacts:
            rows["contacts"] += conn.execute(update(Contact).where(Contact.id.in_(contacts))
                                             .values(**dict.fromkeys(CONTACT_COLUMNS))).rowcount
        for source in conn.execute(select(LeadSource.__table__).where(
                LeadSource.lead_id.in_(leads))).mappings().all():
            conn.execute(update(LeadSource).where(LeadSource.id == source["id"]).values(
                source_id=scrub(source["source_id"]), campaign=scrub(source["campaign"]),
                utm=scrub(source["utm"])))
            rows["lead_sources"] += 1
        # a message is logged under its outcome's lead id: the lead's, or (never captured)
        # its own thread's
        for message in conn.execute(select(MessageLog.message_id, MessageLog.body).where(
                MessageLog.lead_id.in_(threads))).all():
            conn.execute(update(MessageLog).where(MessageLog.message_id == message.message_id)
                         .values(body=anonymised_message(message.body or {}, scrub)))
            rows["messages"] += 1
        needles = {n.lower() for n in scrub.needles}
        for note in conn.execute(select(Notification.id, Notification.recipient,
                                        Notification.subject, Notification.delivered_at,
                                        Notification.failed_at)
                                 .where(Notification.lead_id.in_(threads))).all():
            values: dict[str, Any] = {
                "body": ERASED, "subject": scrub(note.subject),
                "recipient": ERASED if note.recipient.lower() in needles
                else scrub(note.recipient)}
            if note.delivered_at is None and note.failed_at is None:  # never sent: not now
                values.update(failed_at=now, last_error="not sent: the person was erased")
            conn.execute(update(Notification).where(Notification.id == note.id)
                         .values(**values))
            rows["notifications"] += 1
        for item in conn.execute(select(QueueItem.id, QueueItem.reason, QueueItem.payload,
                                        QueueItem.resolved_at)
                                 .where(QueueItem.lead_id.in_(threads))).all():
            payload = {k: scrub(v) for k, v in (item.payload or {}).items() if k != "item"}
            values = {"reason": scrub(item.reason), "payload": payload or None}
            if item.resolved_at is None:  # nothing waits on a lead that is gone
                values.update(resolved_at=now,
                              payload={**payload, "resolution": "personal data erased"})
            conn.execute(update(QueueItem).where(QueueItem.id == item.id).values(**values))
            rows["queue_items"] += 1
        for event in conn.execute(select(EngagementEvent.id, EngagementEvent.payload).where(
                EngagementEvent.lead_id.in_(threads), EngagementEvent.payload.is_not(None))
                ).all():
            conn.execute(update(EngagementEvent).where(EngagementEvent.id == event.id)
                         .values(payload=scrub(event.payload)))
            rows["events"] += 1
        running = list(conn.execute(select(SlaClock.lead_id).where(
            SlaClock.lead_id.in_(threads), SlaClock.state != "closed")).scalars())
        rows["sla_clocks"] += conn.execute(update(SlaClock).where(
            SlaClock.lead_id.in_(running)).values(state="closed")).rowcount
        retract_facts(conn, running, RUNNING_CLOCK)
        for assignment in conn.execute(select(Assignment.id, Assignment.rep_id,
                                              Assignment.reason, Assignment.audit,
                                              Assignment.is_open)
                                       .where(Assignment.lead_id.in_(threads))).all():
            conn.execute(update(Assignment).where(Assignment.id == assignment.id).values(
                reason=scrub(assignment.reason), audit=scrub(assignment.audit), is_open=False))
            if assignment.is_open:  # the rep no longer works this lead
                conn.execute(update(RepStats).where(RepStats.rep_id == assignment.rep_id)
                             .values(open_leads=RepStats.open_leads - 1))
            rows["assignments"] += 1
        # their meetings are deleted from the reps' calendars after this commits
        rows["meeting_bookings"] += conn.execute(update(MeetingBooking).where(
            MeetingBooking.lead_id.in_(threads), MeetingBooking.state != ERASING)
            .values(state=ERASING)).rowcount
        for draft in conn.execute(select(OutreachDraftRow.id, OutreachDraftRow.judge_reasons)
                                  .where(OutreachDraftRow.lead_id.in_(threads))).all():
            conn.execute(update(OutreachDraftRow).where(OutreachDraftRow.id == draft.id).values(
                subject=ERASED, body=ERASED, judge_reasons=scrub(draft.judge_reasons)))
            rows["outreach_drafts"] += 1

    @staticmethod
    def _erase_accounts(conn: Connection, leads: list[str], scrub: Scrubber,
                        rows: Counter[str]) -> None:
        """A company is not a person, so accounts stay, except one named after the person
        (a sole trader's "Duarte Design", duarte-design.pt) that no other live lead has."""
        accounts = {a for a in conn.execute(select(Lead.account_id).where(
            Lead.id.in_(leads))).scalars() if a is not None}
        for account in conn.execute(select(Account.id, Account.name, Account.domain)
                                    .where(Account.id.in_(accounts))).all():
            name, domain = scrub(account.name), scrub(account.domain)
            if (name, domain) == (account.name, account.domain) or conn.execute(
                    select(func.count()).select_from(Lead).where(
                        Lead.account_id == account.id, Lead.id.not_in(leads),
                        Lead.erased_at.is_(None))).scalar():
                continue
            conn.execute(update(Account).where(Account.id == account.id).values(
                name=name, name_key=name_key(name)[:column_length(Account, "name_key")],
                domain=account.domain if domain == account.domain else None))
            rows["accounts"] += 1

    # ------------------------------------------------------------------ their meetings
    def meetings_to_erase(self) -> list[dict[str, Any]]:
        """Bookings of erased people whose calendar event is not deleted yet, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(MeetingBooking.__table__).where(
                MeetingBooking.state == ERASING).order_by(MeetingBooking.id)).mappings().all()
        return [dict(r) for r in rows]

    def meeting_erased(self, booking_id: int) -> None:
        """The event is gone from the rep's calendar: drop the booking (the slot is free)."""
        with self.transaction() as conn:
            conn.execute(delete(MeetingBooking).where(MeetingBooking.id == booking_id,
                                                      MeetingBooking.state == ERASING))

    # ------------------------------------------------------------------ retention, audit
    def retention_candidates(self, idle_before: datetime, limit: int = 1000) -> list[str]:
        """Leads not erased yet, never converted (no meeting booked, not closed won) and
        idle since before `idle_before` (their last update and last event), oldest first."""
        converted = select(EngagementEvent.lead_id).where(
            EngagementEvent.event_type.in_(CONVERTED))
        last_event = (select(EngagementEvent.lead_id,
                             func.max(EngagementEvent.occurred_at).label("at"))
                      .group_by(EngagementEvent.lead_id).subquery())
        query = (select(Lead.id).outerjoin(last_event, last_event.c.lead_id == Lead.id)
                 .where(Lead.erased_at.is_(None), Lead.updated_at < idle_before,
                        Lead.id.not_in(converted),
                        or_(last_event.c.at.is_(None), last_event.c.at < idle_before))
                 .order_by(Lead.updated_at).limit(limit))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def erasures(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(Erasure.__table__).order_by(Erasure.id.desc())
                                .limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def settle_wal(self) -> bool:
        """SQLite: copy the WAL into the file and empty it, so the pages an erasure
        replaced are not left in the log; True when it was emptied (False while other
        connections still read from it), and on other databases."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as conn:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        return busy is None or not busy[0]


# Engagement that makes a lead converted: retention never anonymises it.
CONVERTED = ("meeting_booked", "closed_won")


# ---------------------------------------------------------------------- pure anonymising
class Scrubber:
    """Replaces every needle (any case; a word-like needle only as a whole word) in every
    string of a JSON value with `[erased]`."""

    def __init__(self, needles: Iterable[str]) -> None:
        self.needles = tuple(sorted({n for n in needles if n.strip()}, key=len, reverse=True))
        self.pattern = re.compile("|".join(
            rf"(?<!\w){re.escape(w)}(?!\w)" if w[0].isalnum() and w[-1].isalnum()
            else re.escape(w) for w in self.needles), re.IGNORECASE) if self.needles else None

    def __call__(self, value: Any) -> Any:
        if self.pattern is None:
            return value
        if isinstance(value, str):
            return self.pattern.sub(ERASED, value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def anonymised_contact(contact: Any) -> Any:
    """Every field that names the person becomes `[erased]` when it was filled (so what
    counts filled fields still counts it); the categories stay. A contact given as one
    value (a message's `lead_data.contact`: the email, else the phone) is erased whole."""
    if not isinstance(contact, dict):
        return ERASED if contact not in (None, "", []) else contact
    return {k: v if k in CONTACT_CATEGORIES or v in (None, "", []) else ERASED
            for k, v in contact.items()}


def anonymised_record(record: Mapping[str, Any], scrub: Scrubber) -> dict[str, Any]:
    """A lead record (`leads.record`, a message's `lead_data`) without the person."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "contact":
            out[key] = anonymised_contact(value)
        elif key in FREE_TEXT:
            out[key] = ERASED if value else value
        else:
            out[key] = scrub(value)
    return out


def anonymised_outcome(outcome: Mapping[str, Any], scrub: Scrubber) -> dict[str, Any]:
    """The outcome record without the person: the contact's fields, the evidence quoted
    from their text and the messages go; statuses, tiers, flags and step timings stay."""
    out: dict[str, Any] = {}
    for key, value in outcome.items():
        if key == "contact":
            out[key] = anonymised_contact(value)
        elif key == "bant" and isinstance(value, dict):
            out[key] = {c: ({**v, "evidence": ERASED if v.get("evidence") else v.get(
                "evidence")} if isinstance(v, dict) and "evidence" in v else scrub(v))
                for c, v in value.items()}
        elif key == "messages" and isinstance(value, list):
            out[key] = [anonymised_message(m, scrub) if isinstance(m, dict) else m
                        for m in value]
        else:
            out[key] = scrub(value)
    return out


def anonymised_message(body: Mapping[str, Any], scrub: Scrubber) -> dict[str, Any]:
    """A hand-off message keeps its envelope (ids, agents, type, times, priority); its lead
    data loses the person and its notes are erased."""
    out = {k: scrub(v) for k, v in body.items() if k != "payload"}
    payload = body.get("payload")
    if isinstance(payload, dict):
        out["payload"] = {
            k: (anonymised_record(v, scrub) if k == "lead_data" and isinstance(v, dict)
                else ERASED if k == "processing_notes" and v else scrub(v))
            for k, v in payload.items()}
    elif payload is not None:
        out["payload"] = ERASED
    return out


