"""Work waiting on someone: open queue items and how stale they are, follow-ups and
notifications not yet done, and the manual-review table the dashboard lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from leadflow.metrics.aggregates import count_if, scalar_count
from leadflow.metrics.pipeline import Totals, count_of
from leadflow.tools.crm import QUEUES, Account, Contact, Lead, Notification, QueueItem

# A queue item open longer than this counts as backlog.
STALE_AFTER = timedelta(hours=24)
# The dashboard lists at most this many open manual-review items (newest first).
REVIEW_QUEUE_LIMIT = 50


class QueueMetrics(BaseModel):
    queue: str
    open: int
    stale: int  # open for longer than `stale_after_hours`
    oldest_age_hours: float | None


class BacklogMetrics(BaseModel):
    queues: list[QueueMetrics]
    stale_after_hours: float
    in_progress: int  # leads with no settled status yet
    awaiting_followup: int  # follow-up clocks still running
    outbox_pending: int  # notifications not yet delivered
    outbox_failed: int  # notifications given up on


class ReviewItem(BaseModel):
    """An open manual-review item with who it is about; the text is the CRM's, unescaped
    (the page puts it in the DOM as text)."""

    lead_id: str
    reason: str
    since: datetime
    contact: str | None  # "first last" as the CRM holds them
    company: str | None  # the account's name, else the name on the lead's record


class ReviewQueue(BaseModel):
    open: int  # every open item; `items` holds the newest `limit` of them
    limit: int
    items: list[ReviewItem]


def backlog_metrics(conn: Connection, now: datetime, stale_after: timedelta,
                    statuses: dict[str, int], totals: Totals) -> BacklogMetrics:
    """Open items per queue from the open-items index; running follow-up clocks from the
    running sums (leadflow/facts.py)."""
    rows = conn.execute(
        select(QueueItem.queue, func.count(), func.min(QueueItem.created_at),
               count_if(QueueItem.created_at < now - stale_after))
        .where(QueueItem.resolved_at.is_(None)).group_by(QueueItem.queue)).all()
    found = {queue: (int(n), oldest, int(stale or 0)) for queue, n, oldest, stale in rows}
    queues = []
    for queue in (*QUEUES, *sorted(set(found) - set(QUEUES))):
        n, oldest, stale = found.get(queue, (0, None, 0))
        age = round((now - oldest).total_seconds() / 3600, 2) if oldest else None
        queues.append(QueueMetrics(queue=queue, open=n, stale=stale, oldest_age_hours=age))
    undelivered = and_(Notification.delivered_at.is_(None), Notification.failed_at.is_(None))
    return BacklogMetrics(
        queues=queues, stale_after_hours=stale_after.total_seconds() / 3600,
        in_progress=statuses.get("in_progress", 0),
        awaiting_followup=count_of(totals, "sla_running"),
        outbox_pending=scalar_count(conn, select(func.count()).select_from(Notification)
                                    .where(undelivered)),
        outbox_failed=scalar_count(conn, select(func.count()).select_from(Notification)
                                   .where(Notification.failed_at.is_not(None))))


def review_queue(conn: Connection, limit: int = REVIEW_QUEUE_LIMIT) -> ReviewQueue:
    """The open manual-review items, newest first, with the lead's contact and company."""
    is_open = and_(QueueItem.queue == "manual_review", QueueItem.resolved_at.is_(None))
    rows = conn.execute(
        select(QueueItem.lead_id, QueueItem.reason, QueueItem.created_at, Contact.first_name,
               Contact.last_name, Account.name, Lead.record)
        .select_from(QueueItem)
        .outerjoin(Lead, Lead.id == QueueItem.lead_id)
        .outerjoin(Contact, Contact.id == Lead.contact_id)
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(is_open).order_by(QueueItem.created_at.desc(), QueueItem.id.desc())
        .limit(limit)).all()
    items = []
    for lead_id, reason, since, first, last, account, record in rows:
        company = account or ((record or {}).get("company") or {}).get("name")
        items.append(ReviewItem(lead_id=lead_id, reason=reason, since=since,
                                contact=" ".join(filter(None, (first, last))) or None,
                                company=company or None))
    return ReviewQueue(open=scalar_count(conn, select(func.count()).select_from(QueueItem)
                                         .where(is_open)), limit=limit, items=items)
