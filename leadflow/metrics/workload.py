"""Each rep's load: open leads against capacity, all-time assignments, SLA breaches and
whether the rep is available today."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from leadflow.metrics.aggregates import count_if
from leadflow.tools.crm import Assignment
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


def rep_workload(conn: Connection, reps: RepDirectory, now: datetime,
                 breaches: dict[str, int]) -> list[RepWorkload]:
    loads = {rep: (int(total), int(open_ or 0)) for rep, total, open_ in conn.execute(
        select(Assignment.rep_id, func.count(), count_if(Assignment.is_open.is_(True)))
        .where(Assignment.kind == "rep").group_by(Assignment.rep_id))}
    workload = []
    for rep in reps.reps:
        total, open_leads = loads.get(rep.id, (0, 0))
        workload.append(RepWorkload(
            rep_id=rep.id, name=rep.name, region=rep.region, capacity=rep.capacity,
            open_leads=open_leads, load_ratio=round(open_leads / rep.capacity, 4),
            assigned_total=total, sla_breaches=breaches.get(rep.id, 0),
            available=reps.available(rep, now.date())))
    return workload
