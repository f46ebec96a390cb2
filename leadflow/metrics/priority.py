"""The reps' open leads in the order the conversion score advises (docs/models.md): what the
dashboard's "Reps' queues by conversion priority" card lists, with the promoted model's
probability and priority for each (the outcome's `conversion`, kept in `lead_scores`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from leadflow.scoring.queue import OPEN_STATUSES
from leadflow.tools.crm import Lead
from leadflow.tools.crm.schema import LeadScore

# The dashboard lists at most this many open rep leads (best priority first).
PRIORITY_QUEUE_LIMIT = 50


class PriorityItem(BaseModel):
    lead_id: str
    rep_id: str | None
    tier: str | None
    status: str | None
    priority: str | None  # A–D; None: not scored by a promoted model
    probability: float | None
    model_version: int | None
    since: datetime | None  # when the lead arrived


class PriorityQueue(BaseModel):
    open: int  # every open rep lead; `items` holds the first `limit` in queue order
    by_priority: dict[str, int]  # open rep leads per priority ("none": unscored)
    limit: int
    items: list[PriorityItem]


def priority_queue(conn: Connection, limit: int = PRIORITY_QUEUE_LIMIT) -> PriorityQueue:
    """The reps' open leads (waiting for or past their first touch), A before D, the higher
    probability first, then the oldest; unscored leads last (leadflow.scoring.queue's order)."""
    scored = and_(LeadScore.lead_id == Lead.id, LeadScore.mode == "promoted")
    is_open = and_(Lead.status.in_(OPEN_STATUSES), Lead.rep_id.is_not(None))
    rank = case({"A": 0, "B": 1, "C": 2, "D": 3}, value=LeadScore.priority, else_=4)
    counts = {str(p or "none"): int(n) for p, n in conn.execute(
        select(LeadScore.priority, func.count()).select_from(Lead).outerjoin(LeadScore, scored)
        .where(is_open).group_by(LeadScore.priority))}
    rows = conn.execute(
        select(Lead.id, Lead.rep_id, Lead.tier, Lead.status, LeadScore.priority,
               LeadScore.probability, LeadScore.model_version, Lead.ingested_at)
        .select_from(Lead).outerjoin(LeadScore, scored).where(is_open)
        .order_by(rank, func.coalesce(LeadScore.probability, 0.0).desc(), Lead.ingested_at,
                  Lead.id).limit(limit)).all()
    return PriorityQueue(
        open=sum(counts.values()), by_priority=counts, limit=limit,
        items=[PriorityItem(lead_id=r[0], rep_id=r[1], tier=r[2], status=r[3], priority=r[4],
                            probability=r[5], model_version=r[6], since=r[7]) for r in rows])
