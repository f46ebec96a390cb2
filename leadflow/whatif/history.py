"""What a what-if replay reads from the live CRM, read-only: the window's leads and their
items, where each lead went, the state routing saw when the window opened, and what happened
after routing (closes, reassignments, reviews) that changes the reps' loads later on.

Routing depends on more than the lead: the reps' open loads, who was assigned last, who owns
the account. A replay therefore starts its scratch CRM from the live state as it was at the
window's start and, between the replayed arrivals, applies the live history at its moments —
so an unchanged configuration routes every lead as it was routed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, select
from sqlalchemy.engine import make_url

from leadflow.db import is_postgres, sqlalchemy_url
from leadflow.tools.crm.models import routed_to
from leadflow.tools.crm.schema import (
    Account,
    Assignment,
    Base,
    Contact,
    EngagementEvent,
    Lead,
    ModelRow,
    QueueItem,
    RepStats,
)

CLOSING = ("closed_won", "closed_lost")  # the events that close an assignment
DESTINATION_QUEUES = ("nurture", "marketing")
CHUNK = 500  # ids per IN (…) query


def read_only_engine(url: str) -> Engine:
    """The live CRM, opened so that nothing can be written: SQLite read-only (`mode=ro`), a
    PostgreSQL session in read-only transactions. No migration runs (CrmStore would)."""
    if is_postgres(url):
        return create_engine(sqlalchemy_url(url), future=True).execution_options(
            postgresql_readonly=True)
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError(f"{url}: a what-if replay reads a CRM file or PostgreSQL database")
    return create_engine(f"sqlite:///file:{database}?mode=ro&uri=true", future=True)


def _chunks(ids: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def first_rep(assignment: dict[str, Any]) -> str:
    """The rep (or manager) routing chose, before any reassignment the audit records."""
    return str(routed_to(assignment["rep_id"], assignment.get("audit")))


@dataclass(frozen=True)
class Placement:
    """Where a lead went: its tier and its route (a rep or manager id, or a queue)."""

    tier: str | None
    kind: str  # rep | manager | nurture | marketing | manual_review | another status
    rep_id: str | None
    arrived: datetime | None = field(compare=False)
    record: dict[str, Any] = field(compare=False, repr=False)
    outcome: dict[str, Any] = field(compare=False, repr=False)

    @property
    def route(self) -> str:
        return self.rep_id if self.rep_id else self.kind


def placements(engine: Engine, lead_ids: Sequence[str]) -> dict[str, Placement]:
    """Each lead's placement, read the same way from the live and the scratch CRM."""
    out: dict[str, Placement] = {}
    with engine.connect() as conn:
        for ids in _chunks(list(lead_ids)):
            leads = conn.execute(select(Lead.id, Lead.tier, Lead.status, Lead.record,
                                        Lead.outcome, Lead.received_at, Lead.ingested_at)
                                 .where(Lead.id.in_(ids))).all()
            assigned = {r["lead_id"]: dict(r) for r in conn.execute(
                select(Assignment.__table__).where(Assignment.lead_id.in_(ids))).mappings()}
            queued: dict[str, list[Any]] = defaultdict(list)
            for item in conn.execute(select(QueueItem.lead_id, QueueItem.queue,
                                            QueueItem.created_at, QueueItem.resolved_at)
                                     .where(QueueItem.lead_id.in_(ids))):
                queued[item.lead_id].append(item)
            for lead in leads:
                outcome = dict(lead.outcome or {})
                tier = lead.tier or (outcome.get("bant") or {}).get("tier")
                found = assigned.get(lead.id)
                items = queued.get(lead.id, [])
                tiers = sorted((i for i in items if i.queue in DESTINATION_QUEUES),
                               key=lambda i: i.created_at)
                if found is not None:
                    kind, rep = str(found["kind"]), first_rep(found)
                elif tiers:
                    kind, rep = str(tiers[-1].queue), None
                elif any(i.queue == "manual_review" and i.resolved_at is None for i in items):
                    kind, rep = "manual_review", None
                else:
                    kind, rep = str(lead.status or "none"), None
                out[lead.id] = Placement(tier, kind, rep, lead.received_at or lead.ingested_at,
                                         dict(lead.record or {}), outcome)
    return out


@dataclass(frozen=True)
class Happening:
    """One live moment a replay re-enacts: `kind` is close | reassign | assign | review |
    arrive, in that order among happenings at the same moment."""

    at: datetime
    kind: str
    lead_id: str
    values: dict[str, Any] = field(default_factory=dict)

    ORDER = ("close", "reassign", "assign", "review", "arrive")

    def key(self) -> tuple[datetime, int, str]:
        return (self.at, self.ORDER.index(self.kind), self.lead_id)


@dataclass
class LiveHistory:
    """The window and what the replay needs from before and during it."""

    start: datetime
    end: datetime
    window: list[tuple[str, datetime]]  # (lead id, arrival), in arrival order
    happenings: list[Happening]
    state_tables: dict[str, list[dict[str, Any]]]  # the scratch CRM's rows at `start`


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_history(engine: Engine, days: float) -> LiveHistory | None:
    """The last `days` of arrivals (counted back from the newest stored lead: a simulated
    or imported CRM replays the same as a live one) and what routing saw; None: no leads."""
    from datetime import timedelta

    with engine.connect() as conn:
        newest = conn.execute(select(func.max(Lead.ingested_at))
                              .where(Lead.erased_at.is_(None))).scalar()
        if newest is None:
            return None
        end = _aware(newest)
        start = end - timedelta(days=days)
        window = [(r.id, _aware(r.ingested_at)) for r in conn.execute(
            select(Lead.id, Lead.ingested_at).where(Lead.ingested_at >= start,
                                                    Lead.erased_at.is_(None))
            .order_by(Lead.ingested_at, Lead.id))]
        in_window = {lead_id for lead_id, _ in window}
        assignments = [dict(r) for r in conn.execute(select(
            Assignment.__table__, Lead.ingested_at.label("lead_ingested_at"),
            Lead.account_id.label("lead_account_id")).join(
            Lead, Lead.id == Assignment.lead_id)).mappings()]
        closes = [(r.lead_id, _aware(r.occurred_at)) for r in conn.execute(
            select(EngagementEvent.lead_id, EngagementEvent.occurred_at)
            .where(EngagementEvent.event_type.in_(CLOSING)))]
        reviews = [(r.lead_id, _aware(r.resolved_at)) for r in conn.execute(
            select(QueueItem.lead_id, QueueItem.resolved_at).where(
                QueueItem.queue == "manual_review", QueueItem.resolved_at.is_not(None),
                QueueItem.resolved_at >= start))
            if r.lead_id in in_window]
        state = _state_at(conn, start, assignments, closes)
    happenings = [Happening(at, "arrive", lead_id) for lead_id, at in window]
    happenings += [Happening(at, "close", lead_id) for lead_id, at in closes if at >= start]
    happenings += [Happening(at, "review", lead_id) for lead_id, at in reviews]
    for row in assignments:
        for move in (row["audit"] or {}).get("reassignments") or []:
            at = datetime.fromisoformat(move["at"])
            if _aware(at) >= start:
                happenings.append(Happening(_aware(at), "reassign", row["lead_id"], {
                    "rep_id": move["to"], "reason": move.get("reason") or "reassigned"}))
        if row["lead_id"] not in in_window and _aware(row["assigned_at"]) >= start:
            # routed after the window opened, e.g. after a review: its load counts from then
            happenings.append(Happening(_aware(row["assigned_at"]), "assign", row["lead_id"], {
                "rep_id": first_rep(row), "kind": row["kind"], "region": row["region"],
                "segment": row["segment"], "reason": row["reason"],
                "audit": {k: v for k, v in (row["audit"] or {}).items()
                          if k != "reassignments"},
                "speed_to_lead_seconds": row["speed_to_lead_seconds"],
                "account_id": row["lead_account_id"]}))
    happenings.sort(key=Happening.key)
    return LiveHistory(start, end, window, happenings, state)


def _state_at(conn: Any, start: datetime, assignments: list[dict[str, Any]],
              closes: list[tuple[str, datetime]]) -> dict[str, list[dict[str, Any]]]:
    """The rows routing reads, as they were at `start`: accounts with their owners then,
    the earlier leads (email dedupe, account matching) with their contacts, their
    assignments (holder and openness then) and the reps' loads."""
    leads = [dict(r) for r in conn.execute(
        select(Lead.__table__).where(Lead.ingested_at < start)).mappings()]
    contact_ids = sorted({r["contact_id"] for r in leads if r["contact_id"] is not None})
    contacts: list[dict[str, Any]] = []
    for ids in _chunks(contact_ids):
        contacts += [dict(r) for r in conn.execute(
            select(Contact.__table__).where(Contact.id.in_(ids))).mappings()]
    accounts = [dict(r) for r in conn.execute(
        select(Account.__table__).where(Account.created_at < start)).mappings()]
    closed_before = {lead_id for lead_id, at in closes if at < start}
    first_owner_at: dict[int, datetime] = {}
    kept: list[dict[str, Any]] = []
    loads: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    holders: dict[str, str] = {}
    for row in assignments:
        assigned_at = _aware(row["assigned_at"])
        if assigned_at >= start:
            continue
        account = row["lead_account_id"]
        if row["kind"] == "rep" and account is not None:
            first_owner_at[account] = min(first_owner_at.get(account, assigned_at), assigned_at)
        holder = first_rep(row)
        last[holder] = max(last.get(holder, assigned_at), assigned_at)
        moves = [m for m in (row["audit"] or {}).get("reassignments") or []
                 if _aware(datetime.fromisoformat(m["at"])) < start]
        for move in moves:
            at = _aware(datetime.fromisoformat(move["at"]))
            holder = str(move["to"])
            last[holder] = max(last.get(holder, at), at)
        is_open = row["lead_id"] not in closed_before
        if is_open:
            loads[holder] += 1
        holders[row["lead_id"]] = holder
        audit = {**(row["audit"] or {}), "reassignments": moves}
        if not moves:
            audit.pop("reassignments")
        kept.append({k: v for k, v in row.items() if k not in (
            "lead_ingested_at", "lead_account_id", "id")} | {
            "rep_id": holder, "is_open": is_open, "audit": audit})
    for account in accounts:  # owned once a lead of it went to a rep, before the window
        if account["id"] not in first_owner_at:
            account["owner_rep_id"] = None
    for lead in leads:
        lead["rep_id"] = holders.get(lead["id"])
    known = {a["id"] for a in accounts}
    for contact in contacts:  # linked to an account only later: not yet at the start
        if contact["account_id"] not in known:
            contact["account_id"] = None
    stats = [{"rep_id": rep, "open_leads": loads.get(rep, 0), "last_assigned_at": at}
             for rep, at in last.items()]
    return {"accounts": accounts, "contacts": contacts, "leads": leads,
            "assignments": kept, "rep_stats": stats}


STATE_TABLES: tuple[tuple[str, type[Base]], ...] = (
    ("accounts", Account), ("contacts", Contact), ("leads", Lead),
    ("assignments", Assignment), ("rep_stats", RepStats))


def write_state(engine: Engine, state: dict[str, list[dict[str, Any]]]) -> None:
    """Put the window-start rows into the (empty, migrated) scratch CRM."""
    with engine.begin() as conn:
        for name, model in STATE_TABLES:
            rows = state.get(name) or []
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(model), rows[start:start + CHUNK])


def promoted_model(engine: Engine) -> tuple[int, bytes, str] | None:
    """The promoted conversion model's (version, artefact, sha256), if there is one."""
    with engine.connect() as conn:
        row = conn.execute(select(ModelRow.version, ModelRow.artefact, ModelRow.sha256)
                           .where(ModelRow.status == "promoted")
                           .order_by(ModelRow.version.desc()).limit(1)).first()
    return None if row is None else (int(row.version), bytes(row.artefact), str(row.sha256))


def count_live(engine: Engine, tables: Iterable[type[Any]]) -> dict[str, int]:
    """Row counts per table (tests compare them before and after a replay)."""
    with engine.connect() as conn:
        return {t.__tablename__: int(conn.execute(select(func.count()).select_from(t)).scalar()
                                     or 0) for t in tables}
