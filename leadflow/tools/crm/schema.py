"""The CRM's schema: the SQLAlchemy tables and their column type for UTC datetimes. The
names stored in them (queues, statuses) are in `leadflow.tools.crm_reads`, which reads the CRM
without SQLAlchemy; import them from `leadflow.tools.crm`.

Kept apart from the store so the tables read in one place, and so Alembic (migrations/env.py)
and the metrics' direct SQL see the same `Base.metadata` the store writes through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from leadflow.tools.crm_reads import PAGE_INDEXES, as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the CRM; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    owner_rep_id: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(16))
    industry: Mapped[str | None] = mapped_column(String(40))
    employees: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    seniority: Mapped[str | None] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class Lead(Base):
    __tablename__ = "leads"
    # `leads list` / GET /leads: a page of the newest leads of any combination of status,
    # tier and rep reads one index in the page's order (ingested_at, id: the id breaks ties,
    # and the next page's cursor starts after both), limit + 1 entries of it, instead of
    # sorting every lead that matches or passing every lead of one filter to find the few
    # of another (at a million leads, 'awaiting_followup' and 'cold' has none to find)
    # (crm_reads.PAGE_INDEXES names them; migration 0005 makes them)
    __table_args__ = tuple(Index(name, *columns, "ingested_at", "id")
                           for name, columns in PAGE_INDEXES.items())
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email_key: Mapped[str | None] = mapped_column(String(320), unique=True)
    # indexed: an erasure finds every lead of a contact
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(32), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(16), index=True)
    bant_total: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)  # newest first
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # when the person's data was erased (`leadflow forget`, retention): the row keeps what
    # the metrics count, nothing that names them
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the lead's current owner: the rep (or manager) of its assignment, kept with it
    # (AssignmentStore.assign, reassign, the bulk import) so `leads list --rep` reads an index
    rep_id: Mapped[str | None] = mapped_column(String(64))


class LeadSource(Base):
    """One row per inbound item (source attribution); the fingerprint makes replays no-ops."""

    __tablename__ = "lead_sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(200))
    campaign: Mapped[str | None] = mapped_column(String(300))
    utm: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), unique=True)
    rep_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # rep | manager
    region: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    audit: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    speed_to_lead_seconds: Mapped[float | None] = mapped_column()


class RepStats(Base):
    """Running open-lead count per rep, kept in the assignment transaction so routing reads
    one small row per rep instead of aggregating every assignment ever made."""

    __tablename__ = "rep_stats"
    rep_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    open_leads: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MessageLog(Base):
    __tablename__ = "messages"
    message_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(40), index=True)
    workflow_id: Mapped[str] = mapped_column(String(40))
    from_agent: Mapped[str] = mapped_column(String(64))
    to_agent: Mapped[str] = mapped_column(String(64))
    message_type: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Notification(Base):
    """Outbox: written in the step that decides it; delivered later by workers."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    lead_id: Mapped[str | None] = mapped_column(String(40), index=True)
    audience: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # gave up (dead letter)


class QueueItem(Base):
    __tablename__ = "queue_items"
    # the open items only: the dashboard's backlog reads it whatever the resolved history
    __table_args__ = (UniqueConstraint("queue", "lead_id"),
                      Index("ix_queue_items_open", "queue", "created_at",
                            sqlite_where=text("resolved_at IS NULL"),
                            postgresql_where=text("resolved_at IS NULL")))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(32), index=True)
    lead_id: Mapped[str] = mapped_column(String(40), index=True)  # every queue: erasures
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EngagementEvent(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    lead_id: Mapped[str] = mapped_column(String(40), index=True)
    event_type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SlaClock(Base):
    __tablename__ = "sla_clocks"
    lead_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rep_id: Mapped[str] = mapped_column(String(64), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    remind_at: Mapped[datetime] = mapped_column(UtcDateTime)
    escalate_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_touch_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | touched | closed


class OutreachDraftRow(Base):
    """Every first-outreach variant, the judge's pick, and what the lead did afterwards."""

    __tablename__ = "outreach_drafts"
    __table_args__ = (UniqueConstraint("lead_id", "style"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(40), index=True)
    style: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    written_by: Mapped[str] = mapped_column(String(16))
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    judge_reasons: Mapped[str | None] = mapped_column(Text)
    engagement: Mapped[str | None] = mapped_column(String(32))  # best event after sending
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # on the sent draft: why this style (leadflow/agents/style_choice.py: segment, chosen_by,
    # judge_pick, posterior), and its reward once known (1 replied or further, 0 lost first)
    choice: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reward: Mapped[int | None] = mapped_column(Integer)


class OutreachStyleCount(Base):
    """Running outcome counts of the sent first emails per segment, style and ISO week of
    sending: the bandit's posteriors and the report's traffic, without a scan per lead."""

    __tablename__ = "outreach_style_counts"
    segment: Mapped[str] = mapped_column(String(32), primary_key=True)
    style: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-W45
    sent: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    no_replies: Mapped[int] = mapped_column(Integer, default=0)


class LeadLease(Base):
    """Who is running a lead's thread right now, until when: a lead runs in one place at a
    time on every path (CLI runs, API workers, resumes). Rows are deleted on release."""

    __tablename__ = "lead_leases"
    lead_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:token
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MetricTotal(Base):
    """A running sum the dashboard reads instead of scanning every lead (one row per name and
    key: `runs`/LeadCapture Pro, `filled`/contact.phone …), moved by each lead's contribution
    in the transaction that settles it (`lead_facts` keeps the contribution, so a lead that
    settles again first takes its old one back)."""

    __tablename__ = "metric_totals"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)


class MetricValue(Base):
    """One measured value of one lead (a step's duration, its speed to lead): percentiles
    are read from the hashed sample (`sample` < a threshold), the maximum from the index."""

    __tablename__ = "metric_values"
    # covering: a percentile reads its sample from the index alone
    __table_args__ = (Index("ix_metric_values_sample", "name", "key", "sample", "value"),
                      Index("ix_metric_values_value", "name", "key", "value"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    lead_id: Mapped[str] = mapped_column(String(40), index=True)
    value: Mapped[float] = mapped_column(Float)
    sample: Mapped[int] = mapped_column(Integer)  # a stable hash of the lead id, 0..999999


class LeadFacts(Base):
    """What one settled lead contributed to `metric_totals` ([name, key, value] triples)."""

    __tablename__ = "lead_facts"
    lead_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    totals: Mapped[list[Any]] = mapped_column(JSON)


class Erasure(Base):
    """The audit of an erasure (a person's request, or retention): who asked, when, which
    leads and how many rows of each table were touched; never the erased data itself."""

    __tablename__ = "erasures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))  # request | retention
    lead_ids: Mapped[list[str]] = mapped_column(JSON)
    threads: Mapped[int] = mapped_column(Integer)  # checkpointed threads deleted
    rows: Mapped[dict[str, int]] = mapped_column(JSON)  # table → rows anonymised


class MailboxCursor(Base):
    """Where `leadflow watch` is in a mailbox: its UIDVALIDITY and the last UID whose item
    is durable in the intake queue. Written only after that intake commits, so a restart
    neither loses nor repeats a message. UIDs and UIDVALIDITY are unsigned 32-bit."""

    __tablename__ = "mailbox_cursors"
    mailbox: Mapped[str] = mapped_column(String(500), primary_key=True)  # imap://user@host:port/box
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SimTruth(Base):
    """The ground truth of a lead `leadflow simulate` made (docs/simulator.md): its latent
    conversion probabilities, the terms of its propensity and what happened to it. Read by
    evaluators only: nothing in the pipeline, and no model's features, come from here."""

    __tablename__ = "sim_truth"
    lead_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seed: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(64))
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    p_won_prior: Mapped[float] = mapped_column(Float)  # an average rep, contact after 1 h
    p_won: Mapped[float | None] = mapped_column(Float)  # with its rep and their delay
    outcome: Mapped[str] = mapped_column(String(32))  # the furthest stage it reached
    truth: Mapped[dict[str, Any]] = mapped_column(JSON)


class MeetingBooking(Base):
    """A meeting slot of a rep taken by a lead (`leadflow book`, POST /leads/{id}/book).

    The unique (rep, slot start) is claimed before the calendar is written: of two bookings
    of one slot only one inserts, the other is refused without touching the calendar.
    `pending` until the event is in the calendar, then `booked`; a failed write deletes
    the claim. `erasing` once the lead's person is erased, until the event is deleted from
    the calendar (then the row goes). Holds no personal data (the attendee is in the
    calendar's event)."""

    __tablename__ = "meeting_bookings"
    __table_args__ = (UniqueConstraint("rep_id", "slot_start",
                                       name="uq_meeting_bookings_rep_slot"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[datetime] = mapped_column(UtcDateTime)
    slot_end: Mapped[datetime] = mapped_column(UtcDateTime)
    lead_id: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | booked | erasing (forgotten)
    event_uid: Mapped[str] = mapped_column(String(200))
    event_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ModelRow(Base):
    """A conversion model `leadflow model train` made (docs/models.md): its pickled bytes with
    their sha256, what it was measured at, the features it reads, and where it stands:
    `shadow` (scores stored, not acted on), `promoted` (at most one: its score is in every
    outcome record) or `retired`."""

    __tablename__ = "models"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))  # logistic | gradient_boosting
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trained_through: Mapped[datetime] = mapped_column(UtcDateTime)  # the CRM's latest moment
    horizon_days: Mapped[float] = mapped_column(Float)
    n_train: Mapped[int] = mapped_column(Integer)
    n_test: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[list[str]] = mapped_column(JSON)
    artefact: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    promoted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the promoted model this one replaced when it was promoted: what a rollback restores
    replaces: Mapped[int | None] = mapped_column(Integer)


class LeadScore(Base):
    """One model's conversion score of one lead, stored when the lead was settled: in shadow
    (not acted on) or by the promoted model (also in the outcome record's `conversion`)."""

    __tablename__ = "lead_scores"
    lead_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))  # shadow | promoted, when it was scored
    probability: Mapped[float] = mapped_column(Float)
    priority: Mapped[str] = mapped_column(String(1))
    factors: Mapped[list[Any]] = mapped_column(JSON)
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime)


class HubSpotObject(Base):
    """Which HubSpot object stands for which leadflow record (`leadflow sync hubspot`): one
    row per (object type, leadflow id), so a resent or resumed lead updates its objects
    instead of creating them again. `owner_id` is the HubSpot owner leadflow last wrote or
    read back: an owner changed in HubSpot since then is HubSpot's, and stays."""

    __tablename__ = "hubspot_objects"
    __table_args__ = (UniqueConstraint("object_type", "hubspot_id",
                                       name="uq_hubspot_objects_type_hubspot_id"),)
    object_type: Mapped[str] = mapped_column(String(16), primary_key=True)  # companies …
    leadflow_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # account id …
    hubspot_id: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)


def column_length(model: type[Base], column: str) -> int | None:
    """Declared length of a string column: PostgreSQL rejects longer values (SQLite does
    not), so writers cut to it."""
    return getattr(model.__table__.c[column].type, "length", None)
