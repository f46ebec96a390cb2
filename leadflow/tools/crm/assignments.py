"""Who works a lead, and by when: rep assignments (with the running per-rep load in
rep_stats kept in the same transaction), account ownership, and the follow-up SLA clocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from leadflow.tools.crm.base import StoreBase, dialect_insert
from leadflow.tools.crm.schema import Account, Assignment, Lead, RepStats, SlaClock


class AssignmentStore(StoreBase):
    """Assignments, rep loads and SLA clocks."""

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
                _own(conn, lead_id, rep_id)
                upsert = dialect_insert(conn)(RepStats).values(
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
            _own(conn, lead_id, rep_id)
            if row.is_open:
                conn.execute(update(RepStats).where(RepStats.rep_id == row.rep_id)
                             .values(open_leads=RepStats.open_leads - 1))
                upsert = dialect_insert(conn)(RepStats).values(
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

    def speed_to_lead_seconds(self) -> list[float]:
        """Arrival → rep assignment, per lead assigned to a rep."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Assignment.speed_to_lead_seconds).where(
                Assignment.kind == "rep", Assignment.speed_to_lead_seconds.is_not(None))).all()
        return [float(r[0]) for r in rows if r[0] is not None]

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


def _own(conn: Connection, lead_id: str, rep_id: str) -> None:
    """The lead's current owner, on its row too: `leads list --rep` pages it by index."""
    conn.execute(update(Lead).where(Lead.id == lead_id).values(rep_id=rep_id))


def _assignment_dict(row: Any) -> dict[str, Any]:
    keys = ("rep_id", "kind", "region", "segment", "reason", "audit", "speed_to_lead_seconds")
    return {**{k: row[k] for k in keys}, "assigned_at": row["assigned_at"].isoformat()}
