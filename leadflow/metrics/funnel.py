"""A lead's way from scored to customer: the qualification distribution, routing, first touch,
follow-up SLA breaches and the conversion funnel, all SQL aggregates over the CRM tables."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.engine import Connection

from leadflow.followup import TOUCHES
from leadflow.metrics.aggregates import Stat, count_if, ratio, scalar_count
from leadflow.metrics.pipeline import Totals, value_stat
from leadflow.tools.crm import EngagementEvent, Lead, SlaClock

TIERS = ("hot", "warm", "cold", "unqualified")


class TierMetrics(BaseModel):
    tier: str
    leads: int
    share: float | None
    avg_bant: float | None


class QualificationMetrics(BaseModel):
    tiers: list[TierMetrics]
    scored: int
    unscored: int  # never reached a tier (e.g. manual review before qualification)


class RoutingMetrics(BaseModel):
    to_rep: int
    to_manager: int  # escalations (no eligible rep, routing failed)
    success_rate: float | None  # to_rep / (to_rep + to_manager)
    by_rule: dict[str, int]
    speed_to_lead_s: Stat  # arrival → rep assignment


class FirstTouchMetrics(BaseModel):
    touched: int
    seconds: Stat  # arrival → first contacted/replied/meeting
    by_tier: dict[str, Stat]


class SlaTierMetrics(BaseModel):
    tier: str
    clocks: int
    met: int
    breached_late: int  # touched after the deadline
    breached_overdue: int  # still untouched past the deadline
    breached: int
    escalated: int


class SlaMetrics(BaseModel):
    clocks: int
    breached: int
    breach_rate: float | None
    escalated: int
    by_tier: list[SlaTierMetrics]


class FunnelStage(BaseModel):
    stage: str
    label: str
    leads: int
    of_previous: float | None
    of_leads: float | None


class ConversionMetrics(BaseModel):
    stages: list[FunnelStage]
    events: dict[str, int]  # event type → distinct leads


def qualification_metrics(totals: Totals, leads_total: int) -> QualificationMetrics:
    """From the running sums (leadflow/facts.py): a lead counts under the tier it settled
    with; one that has not settled with a tier is unscored."""
    found = {key for (name, key) in totals if name == "tier"}
    counts = {tier: int(round(totals.get(("tier", tier), 0.0))) for tier in found}
    scored = sum(counts.values())
    tiers = []
    for tier in (*TIERS, *sorted(found - set(TIERS))):
        n = counts.get(tier, 0)
        bant_n = totals.get(("tier_bant_n", tier), 0.0)
        avg = totals.get(("tier_bant_sum", tier), 0.0) / bant_n if bant_n else None
        tiers.append(TierMetrics(tier=tier, leads=n, share=ratio(n, scored),
                                 avg_bant=round(avg, 2) if avg is not None else None))
    return QualificationMetrics(tiers=tiers, scored=scored, unscored=leads_total - scored)


def routing_metrics(conn: Connection, totals: Totals) -> RoutingMetrics:
    """From the running sums each lead adds as it settles (leadflow/facts.py)."""
    to_rep = int(round(totals.get(("assigned", "rep"), 0.0)))
    to_manager = int(round(totals.get(("assigned", "manager"), 0.0)))
    rules = {key: int(round(n)) for (name, key), n in totals.items()
             if name == "route_rule" and round(n)}
    return RoutingMetrics(to_rep=to_rep, to_manager=to_manager,
                          success_rate=ratio(to_rep, to_rep + to_manager),
                          by_rule=dict(sorted(rules.items(), key=lambda r: -r[1])),
                          speed_to_lead_s=value_stat(conn, totals, "speed"))


def first_touch_metrics(conn: Connection) -> FirstTouchMetrics:
    rows = conn.execute(
        select(SlaClock.tier, Lead.ingested_at, SlaClock.first_touch_at)
        .join(Lead, Lead.id == SlaClock.lead_id)
        .where(SlaClock.first_touch_at.is_not(None))).all()
    waits: dict[str, list[float]] = {}
    for tier, arrived, touched in rows:
        if touched is not None:
            waits.setdefault(tier, []).append(round((touched - arrived).total_seconds(), 3))
    every = [w for tier_waits in waits.values() for w in tier_waits]
    return FirstTouchMetrics(touched=len(every), seconds=Stat.of(every),
                             by_tier={tier: Stat.of(w) for tier, w in sorted(waits.items())})


def sla_metrics(conn: Connection, now: datetime) -> tuple[SlaMetrics, dict[str, int]]:
    """Breached = first touched after its deadline, or untouched, still open and past it."""
    late = SlaClock.first_touch_at > SlaClock.due_at
    overdue = and_(SlaClock.first_touch_at.is_(None), SlaClock.state != "closed",
                   SlaClock.due_at < now)
    rows = conn.execute(
        select(SlaClock.tier, func.count(), count_if(late), count_if(overdue),
               count_if(SlaClock.escalated_at.is_not(None)))
        .group_by(SlaClock.tier)).all()
    by_tier = []
    for tier, n, n_late, n_overdue, n_escalated in sorted(
            rows, key=lambda r: TIERS.index(r[0]) if r[0] in TIERS else len(TIERS)):
        n_late, n_overdue = int(n_late or 0), int(n_overdue or 0)
        by_tier.append(SlaTierMetrics(
            tier=tier, clocks=int(n), met=int(n) - n_late - n_overdue, breached_late=n_late,
            breached_overdue=n_overdue, breached=n_late + n_overdue,
            escalated=int(n_escalated or 0)))
    per_rep = {rep: int(n or 0) for rep, n in conn.execute(
        select(SlaClock.rep_id, count_if(or_(late, overdue))).group_by(SlaClock.rep_id))}
    clocks = sum(t.clocks for t in by_tier)
    breached = sum(t.breached for t in by_tier)
    return SlaMetrics(clocks=clocks, breached=breached, breach_rate=ratio(breached, clocks),
                      escalated=sum(t.escalated for t in by_tier), by_tier=by_tier), per_rep


# Funnel stages after "assigned to a rep": a lead counts at every stage up to the furthest
# event it reached, so each stage holds the next one.
_FUNNEL = (
    ("contacted", "Contacted", (*TOUCHES, "closed_won")),
    ("meeting", "Meeting booked", ("meeting_booked", "closed_won")),
    ("opportunity", "Opportunity (closed won)", ("closed_won",)),
)


def conversion_metrics(conn: Connection, leads_total: int, to_rep: int) -> ConversionMetrics:
    events = {kind: int(n) for kind, n in conn.execute(
        select(EngagementEvent.event_type, func.count(distinct(EngagementEvent.lead_id)))
        .group_by(EngagementEvent.event_type))}
    counts = [("leads", "Leads", leads_total), ("assigned", "Assigned to a rep", to_rep)]
    for stage, label, kinds in _FUNNEL:
        counts.append((stage, label, scalar_count(conn, select(
            func.count(distinct(EngagementEvent.lead_id)))
            .where(EngagementEvent.event_type.in_(kinds)))))
    stages = [FunnelStage(stage=stage, label=label, leads=n,
                          of_previous=ratio(n, counts[i - 1][2]) if i else None,
                          of_leads=ratio(n, leads_total))
              for i, (stage, label, n) in enumerate(counts)]
    return ConversionMetrics(stages=stages, events=dict(sorted(events.items())))
