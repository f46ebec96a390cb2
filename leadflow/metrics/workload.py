"""Each rep's load: open leads against capacity (rep_stats, kept as leads are assigned and
closed), all-time assignments (a running sum, leadflow/facts.py), SLA breaches and whether
the rep is available today."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.engine import Connection

from leadflow.metrics.pipeline import Totals, count_of
from leadflow.tools.crm import RepStats
from leadflow.tools.reps import RepDirectory


class RepWorkload(BaseModel):
    rep_id: str
    name: str
    region: str
    capacity: int
    open_leads: int
    load_ratio: float
    assigned_total: int
    sla_breaches: int
    available: bool


def rep_workload(conn: Connection, reps: RepDirectory, now: datetime, totals: Totals,
                 breaches: dict[str, int]) -> list[RepWorkload]:
    open_by_rep = {str(rep): int(n or 0) for rep, n in conn.execute(
        select(RepStats.rep_id, RepStats.open_leads))}
    workload = []
    for rep in reps.reps:
        total, open_leads = count_of(totals, "rep_assigned", rep.id), open_by_rep.get(rep.id, 0)
        workload.append(RepWorkload(
            rep_id=rep.id, name=rep.name, region=rep.region, capacity=rep.capacity,
            open_leads=open_leads, load_ratio=round(open_leads / rep.capacity, 4),
            assigned_total=total, sla_breaches=breaches.get(rep.id, 0),
            available=reps.available(rep, now.date())))
    return workload
