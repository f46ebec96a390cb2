"""What a run leaves for others: the notification outbox (written in the deciding step,
delivered later by workers) and the agents' hand-off message log, which `settle_lead`
writes with the lead's final status in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from leadflow.clock import parse_datetime
from leadflow.tools.crm.base import StoreBase, dialect_insert
from leadflow.tools.crm.schema import Lead, MessageLog, Notification
from leadflow.tools.crm.summaries import FactsOf, apply_facts, settled_rows


class OutboxStore(StoreBase):
    """Notifications to deliver and the message log."""

    def add_notification(self, *, dedupe_key: str, lead_id: str | None, audience: str,
                         channel: str, recipient: str, subject: str, body: str,
                         now: datetime) -> bool:
        with self.transaction() as conn:
            return self._insert_ignore(conn, Notification.__table__, {
                "dedupe_key": dedupe_key, "lead_id": lead_id, "audience": audience,
                "channel": channel, "recipient": recipient, "subject": subject[:500],
                "body": body, "created_at": now, "attempts": 0,
            })

    def amend_unsent_subject(self, lead_id: str, step: str, audiences: Collection[str],
                             suffix: str) -> int:
        """Append `suffix` to the subject of this lead's notices from `step` that no worker
        has tried yet (once: a subject already ending with it is left). How a score that
        comes a moment after routing reaches the rep's "New lead" notice; one already on its
        way goes as it was. Returns how many were amended."""
        prefixes = tuple(f"{lead_id}:{step}:{audience}:" for audience in audiences)
        with self.transaction() as conn:
            rows = conn.execute(select(Notification.id, Notification.dedupe_key,
                                       Notification.subject)
                                .where(Notification.lead_id == lead_id,
                                       Notification.delivered_at.is_(None),
                                       Notification.attempts == 0)).all()
            mine = [r for r in rows if r.dedupe_key.startswith(prefixes)
                    and not r.subject.endswith(suffix)]
            for row in mine:
                conn.execute(update(Notification).where(
                    Notification.id == row.id, Notification.attempts == 0,
                    Notification.delivered_at.is_(None)).values(
                    subject=(row.subject + suffix)[:500]))
        return len(mine)

    def notifications(self, lead_id: str | None = None) -> list[dict[str, Any]]:
        query = select(Notification.__table__).order_by(Notification.id)
        if lead_id:
            query = query.where(Notification.lead_id == lead_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def due_notifications(self, now: datetime, limit: int = 100,
                          channels: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Undelivered, not given up, and due (never tried or past their backoff); only
        those routed to `channels` when given."""
        query = select(Notification.__table__).where(*_due(now))
        if channels is not None:
            query = query.where(Notification.channel.in_(list(channels)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(Notification.id).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def due_by_channel(self, now: datetime) -> dict[str, int]:
        """How many due notifications each channel has."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Notification.channel, func.count()).where(*_due(now))
                                .group_by(Notification.channel)).all()
        return {str(channel): int(n) for channel, n in rows}

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

    def record_messages(self, messages: Sequence[Mapping[str, Any]], lead_id: str,
                        conn: Connection | None = None) -> None:
        """Store hand-off messages in the CRM log; ids already stored are skipped."""
        if conn is None:
            with self.transaction() as own:
                return self.record_messages(messages, lead_id, own)
        if not messages:
            return None
        conn.execute(dialect_insert(conn)(MessageLog).on_conflict_do_nothing(), [{
            "message_id": message["message_id"], "lead_id": lead_id,
            "workflow_id": message["workflow_id"], "from_agent": message["from_agent"],
            "to_agent": message["to_agent"], "message_type": message["message_type"],
            "body": dict(message), "created_at": parse_datetime(message["metadata"]["timestamp"]),
        } for message in messages])
        return None

    def messages_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(MessageLog.body).where(MessageLog.lead_id == lead_id)
                .order_by(MessageLog.created_at, MessageLog.message_id)
            ).all()
        return [r[0] for r in rows]

    def settle_lead(self, lead_id: str, now: datetime, messages: Sequence[Mapping[str, Any]],
                    facts_of: FactsOf | None = None, **values: Any) -> None:
        """Write the lead's settled status/outcome, its message log and its contribution to
        the dashboard's sums (leadflow/facts.py, from the rows read in this transaction)."""
        with self.transaction() as conn:
            if values:
                conn.execute(update(Lead).where(Lead.id == lead_id)
                             .values(updated_at=now, **values))
            if facts_of is not None:
                apply_facts(conn, lead_id, facts_of(**settled_rows(conn, lead_id)))
            self.record_messages(messages, lead_id, conn)


def _due(now: datetime) -> tuple[Any, ...]:
    return (Notification.delivered_at.is_(None), Notification.failed_at.is_(None),
            Notification.next_attempt_at.is_(None) | (Notification.next_attempt_at <= now))
