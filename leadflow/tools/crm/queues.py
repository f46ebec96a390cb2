"""The work queues (manual review, nurture, marketing, retry_later, rules_review) and the
intake queue: items filed once per (queue, lead) and resolved with a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import Lead, QueueItem
from leadflow.tools.crm_reads import INTAKE, QUEUES


class QueueStore(StoreBase):
    """Filing, resolving and listing queue items."""

    def enqueue(self, queue: str, lead_id: str, reason: str, now: datetime,
                payload: Mapping[str, Any] | None = None) -> bool:
        """Put the lead in the queue (once: a repeat while it is open is a no-op). A lead that
        comes back to a queue it left (paused for review again after a decision) reopens its
        item with the new reason, so it is never waiting without an open item."""
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}")
        with self.transaction() as conn:
            return self._file(conn, queue, lead_id, reason, now, payload)

    def _file(self, conn: Connection, queue: str, lead_id: str, reason: str, now: datetime,
              payload: Mapping[str, Any] | None) -> bool:
        if self._insert_ignore(conn, QueueItem.__table__, {
                "queue": queue, "lead_id": lead_id, "reason": reason,
                "payload": dict(payload) if payload else None, "created_at": now}):
            return True
        reopened = conn.execute(update(QueueItem).where(
            QueueItem.queue == queue, QueueItem.lead_id == lead_id,
            QueueItem.resolved_at.is_not(None)).values(
            resolved_at=None, reason=reason, created_at=now,
            payload=dict(payload) if payload else None))
        return bool(reopened.rowcount)

    def hold_for_review(self, lead_id: str, reason: str, now: datetime,
                        payload: Mapping[str, Any] | None = None) -> None:
        """A lead nobody could process: its manual-review item, and — if capture had created
        it and nothing settled it — its status, in one transaction, so the CRM never holds a
        lead without one (SPEC §6)."""
        with self.transaction() as conn:
            self._file(conn, "manual_review", lead_id, reason, now, payload)
            conn.execute(update(Lead).where(Lead.id == lead_id, Lead.status.is_(None))
                         .values(status="manual_review", status_reason=reason, updated_at=now))

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

    def queue_counts(self) -> dict[str, int]:
        return self.reads.queue_counts()

    def queue_items(self, queue: str, limit: int = 50) -> list[dict[str, Any]]:
        return self.reads.queue_items(queue, limit)

    def open_queue_item(self, queue: str, lead_id: str) -> dict[str, Any] | None:
        """The lead's unresolved item in `queue`, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(QueueItem.__table__).where(
                    QueueItem.queue == queue, QueueItem.lead_id == lead_id,
                    QueueItem.resolved_at.is_(None))).mappings().first()
        return dict(row) if row else None
