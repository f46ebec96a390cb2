"""The CRM: a real SQL database through SQLAlchemy 2 (SQLite by default, or PostgreSQL).

Every write a node makes goes through an idempotent function keyed by lead and step (unique
constraints + insert-or-ignore), so a retried or resumed node never repeats its side effects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from leadflow.clock import parse_datetime
from leadflow.db import sqlalchemy_url, upgrade_to_head, use_wal

# rules_review: business-rule conflicts for the business-rules admin (the lead went on with
# the safest default; nothing waits on it).
INTAKE = "intake"  # accepted items not yet settled (API, distributed runs)
QUEUES = ("manual_review", "nurture", "marketing", "retry_later", "rules_review", INTAKE)
STATUSES = ("routed", "nurture", "marketing", "manual_review", "escalated", "awaiting_followup")


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
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email_key: Mapped[str | None] = mapped_column(String(320), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(32), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(16), index=True)
    bant_total: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


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
    __table_args__ = (UniqueConstraint("queue", "lead_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(32), index=True)
    lead_id: Mapped[str] = mapped_column(String(40))
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


def column_length(model: type[Base], column: str) -> int | None:
    """Declared length of a string column: PostgreSQL rejects longer values (SQLite does
    not), so writers cut to it."""
    return getattr(model.__table__.c[column].type, "length", None)


_LEGAL_SUFFIXES = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|plc|gmbh|ag|kg|sa|s\.a|sas|sarl|srl|spa|s\.p\.a|bv|nv|"
    r"oy|ab|as|kk|k\.k|co|corp|corporation|company|pty|pte|group|holdings|ltda|sl|s\.l)\b\.?",
    re.IGNORECASE,
)


def name_key(name: str) -> str:
    """Comparable company name: 'Müller & Söhne GmbH' → 'müller and söhne'."""
    key = _LEGAL_SUFFIXES.sub(" ", name.lower().replace("&", " and "))
    return re.sub(r"[^\w]+", " ", key).strip()


@dataclass(frozen=True)
class CaptureWrite:
    """What the CRM knew after the capture step's upsert."""

    lead_id: str
    duplicate_of: str | None
    account_id: int | None
    account_owner: str | None
    account_matched_by: str | None  # domain | name | None (new account)


class CrmStore:
    """All CRM reads and writes. Thread-safe: one engine, short transactions."""

    def __init__(self, url: str) -> None:
        """Open the CRM at `url` (`sqlite:///…`, `postgresql://…`) and bring its schema to
        the latest migration."""
        self.url = url
        self.engine: Engine = create_engine(sqlalchemy_url(url), future=True,
                                            pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.migrated_from: str | None = upgrade_to_head(self.engine)  # None: a new database

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # ------------------------------------------------------------------ writes
    def _insert_ignore(self, conn: Connection, table: Any, values: Mapping[str, Any]) -> bool:
        """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True when a row was added."""
        return self._insert_ignore_key(conn, table, values) is not None

    def _insert_ignore_key(self, conn: Connection, table: Any,
                           values: Mapping[str, Any]) -> Any | None:
        """Like _insert_ignore, returning the new row's primary key (None when it existed).

        RETURNING, not rowcount: psycopg reports rowcount -1 for INSERT … RETURNING, and
        SQLite's lastrowid is stale after an ignored insert."""
        insert_ignored = _dialect_insert(conn)(table).values(**values).on_conflict_do_nothing()
        row = conn.execute(insert_ignored.returning(*table.primary_key.columns)).first()
        return None if row is None else row[0]

    def capture_lead(
        self,
        *,
        lead_id: str,
        record: dict[str, Any],
        fingerprint: str,
        source_id: str | None,
        now: datetime,
    ) -> CaptureWrite:
        """Dedupe (email, then account domain / fuzzy name) and upsert, in one transaction.

        Two items with the same email racing each other: the loser's insert hits the unique
        key, and its retry sees the winner's lead and becomes a duplicate of it."""
        try:
            return self._capture_once(lead_id=lead_id, record=record, fingerprint=fingerprint,
                                      source_id=source_id, now=now)
        except IntegrityError:
            return self._capture_once(lead_id=lead_id, record=record, fingerprint=fingerprint,
                                      source_id=source_id, now=now)

    def _capture_once(self, *, lead_id: str, record: dict[str, Any], fingerprint: str,
                      source_id: str | None, now: datetime) -> CaptureWrite:
        contact = record.get("contact", {})
        company = record.get("company", {})
        source = record.get("source", {})
        email = (contact.get("email") or "").lower() or None
        with self.transaction() as conn:
            known = conn.execute(select(Lead.id).where(
                (Lead.id == lead_id) | (Lead.email_key == email) if email else Lead.id == lead_id
            )).scalars().all()
            existing = lead_id if lead_id in known else None
            by_email = None if existing else next(iter(known), None)
            account_id, owner, matched_by = self._upsert_account(conn, company, now)
            canonical = existing or by_email or lead_id
            contact_id = self._upsert_contact(conn, contact, account_id)
            if existing is None and by_email is None:
                conn.execute(
                    insert(Lead).values(
                        id=lead_id, email_key=email, contact_id=contact_id, account_id=account_id,
                        status=None, channel=source.get("channel"), record=record,
                        received_at=parse_datetime(source.get("received_at")), ingested_at=now,
                        updated_at=now,
                    )
                )
            self._insert_ignore(conn, LeadSource.__table__, {
                "fingerprint": fingerprint, "lead_id": canonical, "channel": source.get("channel"),
                "source_id": source_id, "campaign": source.get("campaign"),
                "utm": source.get("utm") or None,
                "received_at": parse_datetime(source.get("received_at")),
            })
        return CaptureWrite(
            lead_id=canonical,
            duplicate_of=by_email,
            account_id=account_id,
            account_owner=owner,
            account_matched_by=matched_by,
        )

    def _upsert_account(
        self, conn: Connection, company: Mapping[str, Any], now: datetime
    ) -> tuple[int | None, str | None, str | None]:
        name = (company.get("name") or "").strip()
        domain = (company.get("domain") or "").lower() or None
        if not name and not domain:
            return None, None, None
        key = (name_key(name) if name else (domain or ""))[:column_length(Account, "name_key")]
        row: Any = None
        matched_by = None
        if domain:
            row = conn.execute(
                select(Account.id, Account.owner_rep_id).where(Account.domain == domain)
            ).first()
            matched_by = "domain" if row else None
        if row is None and key:
            prefix = key.split(" ", 1)[0]
            candidates = conn.execute(
                select(Account.id, Account.owner_rep_id, Account.name_key, Account.domain)
                .where(Account.name_key.like(f"{prefix}%"))
                .limit(200)
            ).all()
            best = max(
                ((fuzz.ratio(key, c.name_key), c) for c in candidates
                 if not (domain and c.domain and c.domain != domain)),
                default=(0.0, None),
                key=lambda pair: pair[0],
            )
            if best[1] is not None and best[0] >= 92:
                row = best[1]
                matched_by = "name"
        if row is not None:
            return int(row.id), row.owner_rep_id, matched_by
        values = {
            "domain": domain, "name": name or domain, "name_key": key,
            "country": company.get("country"), "region": company.get("region"),
            "segment": company.get("segment"), "industry": company.get("industry"),
            "employees": company.get("employees"), "created_at": now,
        }
        new_id = self._insert_ignore_key(conn, Account.__table__, values)
        if new_id is None:  # another lead created this domain's account meanwhile
            row = conn.execute(
                select(Account.id, Account.owner_rep_id).where(Account.domain == domain)
            ).one()
            return int(row.id), row.owner_rep_id, "domain"
        return int(new_id), None, None

    def _upsert_contact(
        self, conn: Connection, contact: Mapping[str, Any], account_id: int | None
    ) -> int | None:
        email = (contact.get("email") or "").lower() or None
        fields = {k: contact.get(k) for k in ("phone", "first_name", "last_name", "title",
                                              "seniority", "department")}
        if email:  # insert first: a new contact costs one statement
            new_id = self._insert_ignore_key(conn, Contact.__table__,
                                             {"email": email, "account_id": account_id, **fields})
            if new_id is not None:
                return int(new_id)
            current = conn.execute(
                select(Contact.__table__).where(Contact.email == email)).mappings().one()
            fill = {k: v for k, v in fields.items() if v and not current[k]}
            if fill:
                conn.execute(update(Contact).where(Contact.id == current["id"]).values(**fill))
            return int(current["id"])
        if fields.get("phone"):
            found = conn.execute(
                select(Contact.id).where(Contact.phone == fields["phone"])).scalar()
            if found is not None:
                return int(found)
        result = conn.execute(insert(Contact).values(email=None, account_id=account_id, **fields))
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else None

    def update_lead(self, lead_id: str, now: datetime, **values: Any) -> None:
        with self.transaction() as conn:
            conn.execute(update(Lead).where(Lead.id == lead_id).values(updated_at=now, **values))

    def record_messages(self, messages: Sequence[Mapping[str, Any]], lead_id: str,
                        conn: Connection | None = None) -> None:
        """Store hand-off messages in the CRM log; ids already stored are skipped."""
        if conn is None:
            with self.transaction() as own:
                return self.record_messages(messages, lead_id, own)
        if not messages:
            return None
        conn.execute(_dialect_insert(conn)(MessageLog).on_conflict_do_nothing(), [{
            "message_id": message["message_id"], "lead_id": lead_id,
            "workflow_id": message["workflow_id"], "from_agent": message["from_agent"],
            "to_agent": message["to_agent"], "message_type": message["message_type"],
            "body": dict(message), "created_at": parse_datetime(message["metadata"]["timestamp"]),
        } for message in messages])
        return None

    def settle_lead(self, lead_id: str, now: datetime, messages: Sequence[Mapping[str, Any]],
                    **values: Any) -> None:
        """Write the lead's settled status/outcome and its message log in one transaction."""
        with self.transaction() as conn:
            if values:
                conn.execute(update(Lead).where(Lead.id == lead_id)
                             .values(updated_at=now, **values))
            self.record_messages(messages, lead_id, conn)

    def enqueue(self, queue: str, lead_id: str, reason: str, now: datetime,
                payload: Mapping[str, Any] | None = None) -> bool:
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}")
        with self.transaction() as conn:
            return self._insert_ignore(conn, QueueItem.__table__, {
                "queue": queue, "lead_id": lead_id, "reason": reason,
                "payload": dict(payload) if payload else None, "created_at": now,
            })

    def record_intake(self, items: Sequence[tuple[str, Mapping[str, Any]]], reason: str,
                      now: datetime) -> None:
        """Put accepted items (lead id, item) on the intake queue in one transaction, before
        anyone is told they were accepted; resolved when their lead is settled."""
        with self.transaction() as conn:
            for lead_id, item in items:
                self._insert_ignore(conn, QueueItem.__table__, {
                    "queue": INTAKE, "lead_id": lead_id, "reason": reason,
                    "payload": {"item": dict(item)}, "created_at": now})

    def resolve(self, queue: str, lead_id: str, now: datetime, note: str) -> bool:
        """Close an open queue item, keeping why; False when there was none open."""
        with self.transaction() as conn:
            row = conn.execute(select(QueueItem.id, QueueItem.payload).where(
                QueueItem.queue == queue, QueueItem.lead_id == lead_id,
                QueueItem.resolved_at.is_(None))).first()
            if row is None:
                return False
            conn.execute(update(QueueItem).where(QueueItem.id == row.id).values(
                resolved_at=now, payload={**(row.payload or {}), "resolution": note}))
            return True

    def add_notification(self, *, dedupe_key: str, lead_id: str | None, audience: str,
                         channel: str, recipient: str, subject: str, body: str,
                         now: datetime) -> bool:
        with self.transaction() as conn:
            return self._insert_ignore(conn, Notification.__table__, {
                "dedupe_key": dedupe_key, "lead_id": lead_id, "audience": audience,
                "channel": channel, "recipient": recipient, "subject": subject[:500],
                "body": body, "created_at": now, "attempts": 0,
            })

    def assign(self, *, lead_id: str, rep_id: str, kind: str, region: str | None,
               segment: str | None, reason: str, audit: Mapping[str, Any], now: datetime,
               speed_to_lead_seconds: float | None, account_id: int | None) -> dict[str, Any]:
        """Record the assignment once; a replay returns the assignment already stored."""
        values = {"lead_id": lead_id, "rep_id": rep_id, "kind": kind, "region": region,
                  "segment": segment, "reason": reason, "audit": dict(audit), "is_open": True,
                  "assigned_at": now, "speed_to_lead_seconds": speed_to_lead_seconds}
        with self.transaction() as conn:
            added = self._insert_ignore(conn, Assignment.__table__, values)
            if added:
                upsert = _dialect_insert(conn)(RepStats).values(
                    rep_id=rep_id, open_leads=1, last_assigned_at=now)
                conn.execute(upsert.on_conflict_do_update(
                    index_elements=["rep_id"],
                    set_={"open_leads": RepStats.open_leads + 1, "last_assigned_at": now}))
            if account_id is not None and kind == "rep":
                conn.execute(
                    update(Account)
                    .where(Account.id == account_id, Account.owner_rep_id.is_(None))
                    .values(owner_rep_id=rep_id)
                )
            if not added:  # a replay: the first decision stands
                values = dict(conn.execute(select(Assignment.__table__)
                                           .where(Assignment.lead_id == lead_id)).mappings().one())
        return _assignment_dict(values)

    def get_assignment(self, lead_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(Assignment.__table__)
                               .where(Assignment.lead_id == lead_id)).mappings().first()
        return _assignment_dict(row) if row else None

    def account_owner(self, account_id: int) -> str | None:
        """The account's owner, else the rep holding an open assignment on one of its leads."""
        with self.engine.connect() as conn:
            owner = conn.execute(
                select(Account.owner_rep_id).where(Account.id == account_id)
            ).scalar()
            if owner:
                return str(owner)
            return conn.execute(
                select(Assignment.rep_id)
                .join(Lead, Lead.id == Assignment.lead_id)
                .where(Lead.account_id == account_id, Assignment.is_open.is_(True),
                       Assignment.kind == "rep")
                .order_by(Assignment.assigned_at)
                .limit(1)
            ).scalar()

    def rep_loads(self) -> dict[str, tuple[int, datetime | None]]:
        """Open leads and last assignment time per rep."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(RepStats.rep_id, RepStats.open_leads,
                                       RepStats.last_assigned_at)).all()
        return {rep: (int(open_leads), last) for rep, open_leads, last in rows}

    def start_sla(self, *, lead_id: str, rep_id: str, tier: str, started_at: datetime,
                  due_at: datetime, remind_at: datetime, escalate_at: datetime) -> dict[str, Any]:
        with self.transaction() as conn:
            self._insert_ignore(conn, SlaClock.__table__, {
                "lead_id": lead_id, "rep_id": rep_id, "tier": tier, "started_at": started_at,
                "due_at": due_at, "remind_at": remind_at, "escalate_at": escalate_at,
                "state": "open",
            })
            row = conn.execute(select(SlaClock.__table__)
                               .where(SlaClock.lead_id == lead_id)).mappings().one()
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in row.items()}

    # ------------------------------------------------------------------- reads
    def get_lead(self, lead_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(Lead.__table__).where(Lead.id == lead_id)).mappings().first()
        return dict(row) if row else None

    def list_leads(self, *, status: str | None = None, tier: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        query = select(Lead.__table__).order_by(Lead.ingested_at.desc()).limit(limit)
        if status:
            query = query.where(Lead.status == status)
        if tier:
            query = query.where(Lead.tier == tier)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def messages_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(MessageLog.body).where(MessageLog.lead_id == lead_id)
                .order_by(MessageLog.created_at, MessageLog.message_id)
            ).all()
        return [r[0] for r in rows]

    def queue_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(QueueItem.queue, func.count()).where(QueueItem.resolved_at.is_(None))
                .group_by(QueueItem.queue)
            ).all()
        counts = dict.fromkeys(QUEUES, 0)
        counts.update({q: int(n) for q, n in rows})
        return counts

    def queue_items(self, queue: str, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(QueueItem.__table__)
                .where(QueueItem.queue == queue, QueueItem.resolved_at.is_(None))
                .order_by(QueueItem.created_at).limit(limit)
            ).mappings().all()
        return [dict(r) for r in rows]

    def open_queue_item(self, queue: str, lead_id: str) -> dict[str, Any] | None:
        """The lead's unresolved item in `queue`, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(QueueItem.__table__).where(
                    QueueItem.queue == queue, QueueItem.lead_id == lead_id,
                    QueueItem.resolved_at.is_(None))).mappings().first()
        return dict(row) if row else None

    def count(self, model: type[Base], **where: Any) -> int:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def notifications(self, lead_id: str | None = None) -> list[dict[str, Any]]:
        query = select(Notification.__table__).order_by(Notification.id)
        if lead_id:
            query = query.where(Notification.lead_id == lead_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    # ------------------------------------------------------------- follow-up
    def sla_for(self, lead_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(SlaClock.__table__)
                               .where(SlaClock.lead_id == lead_id)).mappings().first()
        return dict(row) if row else None

    def update_sla(self, lead_id: str, **values: Any) -> None:
        with self.transaction() as conn:
            conn.execute(update(SlaClock).where(SlaClock.lead_id == lead_id).values(**values))

    def waiting_sla_leads(self) -> list[str]:
        """Leads whose follow-up clock still runs (not closed)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(SlaClock.lead_id)
                                     .where(SlaClock.state != "closed")).scalars())

    def record_event(self, lead_id: str, event_type: str, at: datetime,
                     payload: Mapping[str, Any] | None = None) -> bool:
        """One row per (lead, event, moment): a replayed resume records nothing twice."""
        with self.transaction() as conn:
            return self._insert_ignore(conn, EngagementEvent.__table__, {
                "dedupe_key": f"{lead_id}:{event_type}:{at.isoformat()}",
                "lead_id": lead_id, "event_type": event_type, "occurred_at": at,
                "payload": dict(payload) if payload else None})

    def events_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(EngagementEvent.__table__)
                                .where(EngagementEvent.lead_id == lead_id)
                                .order_by(EngagementEvent.occurred_at)).mappings().all()
        return [dict(r) for r in rows]

    def reassign(self, lead_id: str, rep_id: str, now: datetime, reason: str) -> None:
        """Move an open assignment to another rep, keeping the loads and the audit right."""
        with self.transaction() as conn:
            row = conn.execute(select(Assignment.rep_id, Assignment.audit, Assignment.is_open)
                               .where(Assignment.lead_id == lead_id)).one()
            if row.rep_id == rep_id:
                return
            history = [*((row.audit or {}).get("reassignments") or []),
                       {"from": row.rep_id, "to": rep_id, "at": now.isoformat(),
                        "reason": reason}]
            conn.execute(update(Assignment).where(Assignment.lead_id == lead_id).values(
                rep_id=rep_id, kind="rep", reason=reason,
                audit={**(row.audit or {}), "reassignments": history}))
            if row.is_open:
                conn.execute(update(RepStats).where(RepStats.rep_id == row.rep_id)
                             .values(open_leads=RepStats.open_leads - 1))
                upsert = _dialect_insert(conn)(RepStats).values(
                    rep_id=rep_id, open_leads=1, last_assigned_at=now)
                conn.execute(upsert.on_conflict_do_update(
                    index_elements=["rep_id"],
                    set_={"open_leads": RepStats.open_leads + 1, "last_assigned_at": now}))

    def close_assignment(self, lead_id: str) -> None:
        with self.transaction() as conn:
            row = conn.execute(select(Assignment.rep_id, Assignment.is_open)
                               .where(Assignment.lead_id == lead_id)).first()
            if row is None or not row.is_open:
                return
            conn.execute(update(Assignment).where(Assignment.lead_id == lead_id)
                         .values(is_open=False))
            conn.execute(update(RepStats).where(RepStats.rep_id == row.rep_id)
                         .values(open_leads=RepStats.open_leads - 1))

    # ------------------------------------------------------------- outreach
    def store_drafts(self, lead_id: str, contest: Mapping[str, Any], now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(_dialect_insert(conn)(OutreachDraftRow).on_conflict_do_nothing(), [{
                "lead_id": lead_id, "style": style, "subject": draft["subject"][:500],
                "body": draft["body"], "written_by": contest["written_by"][style],
                "chosen": style == contest["chosen"],
                "judge_reasons": contest["reasons"] if style == contest["chosen"] else None,
                "created_at": now} for style, draft in contest["variants"].items()])

    def credit_outreach(self, lead_id: str, event: str, rank: Mapping[str, int]) -> None:
        """Keep the best engagement that followed the chosen draft."""
        with self.transaction() as conn:
            row = conn.execute(select(OutreachDraftRow.id, OutreachDraftRow.engagement)
                               .where(OutreachDraftRow.lead_id == lead_id,
                                      OutreachDraftRow.chosen.is_(True))).first()
            if row is not None and rank.get(event, 0) >= rank.get(row.engagement or "", 0):
                conn.execute(update(OutreachDraftRow).where(OutreachDraftRow.id == row.id)
                             .values(engagement=event))

    def outreach_results(self) -> list[dict[str, Any]]:
        """Per style: times chosen, and how often the lead then engaged."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutreachDraftRow.style, OutreachDraftRow.engagement, func.count())
                .where(OutreachDraftRow.chosen.is_(True))
                .group_by(OutreachDraftRow.style, OutreachDraftRow.engagement)).all()
        return [{"style": s, "engagement": e, "leads": int(n)} for s, e, n in rows]

    def drafts_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(OutreachDraftRow.__table__)
                                .where(OutreachDraftRow.lead_id == lead_id)
                                .order_by(OutreachDraftRow.style)).mappings().all()
        return [dict(r) for r in rows]

    def due_notifications(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Undelivered, not given up, and due (never tried or past their backoff)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Notification.__table__)
                .where(Notification.delivered_at.is_(None), Notification.failed_at.is_(None),
                       (Notification.next_attempt_at.is_(None))
                       | (Notification.next_attempt_at <= now))
                .order_by(Notification.id).limit(limit)
            ).mappings().all()
        return [dict(r) for r in rows]

    def mark_delivery(self, notification_id: int, now: datetime, *, delivered: bool,
                      error: str | None = None, retry_at: datetime | None = None) -> None:
        values: dict[str, Any] = {"attempts": Notification.attempts + 1}
        if delivered:
            values.update(delivered_at=now, last_error=None)
        elif retry_at is None:
            values.update(failed_at=now, last_error=error)
        else:
            values.update(next_attempt_at=retry_at, last_error=error)
        with self.transaction() as conn:
            conn.execute(update(Notification).where(Notification.id == notification_id)
                         .values(**values))

    def speed_to_lead_seconds(self) -> list[float]:
        """Arrival → rep assignment, per lead assigned to a rep."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Assignment.speed_to_lead_seconds).where(
                Assignment.kind == "rep", Assignment.speed_to_lead_seconds.is_not(None))).all()
        return [float(r[0]) for r in rows if r[0] is not None]

    def status_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(Lead.status, func.count()).group_by(Lead.status)).all()
        return {str(s): int(n) for s, n in rows}


def _assignment_dict(row: Any) -> dict[str, Any]:
    keys = ("rep_id", "kind", "region", "segment", "reason", "audit", "speed_to_lead_seconds")
    return {**{k: row[k] for k in keys}, "assigned_at": row["assigned_at"].isoformat()}


def _dialect_insert(conn: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    use_wal(dbapi_conn)  # also sets busy_timeout
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__: Sequence[str] = (
    "CrmStore", "CaptureWrite", "INTAKE", "QUEUES", "STATUSES", "column_length", "name_key",
    "Account", "Contact", "Lead", "LeadSource", "Assignment", "MessageLog", "Notification",
    "RepStats",
    "QueueItem", "EngagementEvent", "SlaClock",
)
