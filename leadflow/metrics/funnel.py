"""A lead's way from scored to customer: the qualification distribution, routing, first touch,
follow-up SLA breaches and the conversion funnel, from the running sums each lead adds as it
settles (leadflow/facts.py) and one short index range for the clocks not yet due."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from leadflow.events import FUNNEL
from leadflow.metrics.aggregates import Stat, ratio
from leadflow.metrics.pipeline import Totals, count_of, value_stat
from leadflow.tools.crm import SlaClock

TIERS = ("hot", "warm", "cold", "unqualified")
# An untouched clock that still runs (leadflow/facts.py counts the same ones as pending).
PENDING_CLOCK = (SlaClock.first_touch_at.is_(None), SlaClock.state != "closed")


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


def first_touch_metrics(conn: Connection, totals: Totals) -> FirstTouchMetrics:
    """Arrival → first touch, from the waits each lead added when it settled touched."""
    tiers = sorted(key for (name, key) in totals if name == "first_touch_n" and key)
    overall = value_stat(conn, totals, "first_touch")
    return FirstTouchMetrics(touched=overall.count, seconds=overall,
                             by_tier={tier: value_stat(conn, totals, "first_touch", tier)
                                      for tier in tiers})


def _not_yet_due(conn: Connection, now: datetime) -> list[tuple[str, str, int]]:
    """(tier, rep, clocks) still untouched, running and not yet due: a short index range
    (clocks started in the last day or so), whatever the size of the history."""
    return [(str(tier), str(rep), int(n)) for tier, rep, n in conn.execute(
        select(SlaClock.tier, SlaClock.rep_id, func.count())
        .where(*PENDING_CLOCK, SlaClock.due_at >= now)
        .group_by(SlaClock.tier, SlaClock.rep_id))]


def sla_metrics(conn: Connection, totals: Totals,
                now: datetime) -> tuple[SlaMetrics, dict[str, int]]:
    """Breached = first touched after its deadline, or untouched, still running and past it.
    Clocks, late touches and escalations are running sums (leadflow/facts.py); overdue is
    the clocks pending at their lead's last settle minus those not yet due now."""
    waiting = _not_yet_due(conn, now)
    tiers = {key for (name, key) in totals if name == "sla_clocks" and count_of(totals, name, key)}
    by_tier = []
    for tier in sorted(tiers, key=lambda t: TIERS.index(t) if t in TIERS else len(TIERS)):
        n, n_late = count_of(totals, "sla_clocks", tier), count_of(totals, "sla_late", tier)
        n_overdue = max(0, count_of(totals, "sla_pending", tier)
                        - sum(k for t, _, k in waiting if t == tier))
        by_tier.append(SlaTierMetrics(
            tier=tier, clocks=n, met=n - n_late - n_overdue, breached_late=n_late,
            breached_overdue=n_overdue, breached=n_late + n_overdue,
            escalated=count_of(totals, "sla_escalated", tier)))
    reps = {key for (name, key) in totals if name in ("sla_late_rep", "sla_pending_rep")}
    per_rep = {rep: count_of(totals, "sla_late_rep", rep)
               + max(0, count_of(totals, "sla_pending_rep", rep)
                     - sum(k for _, r, k in waiting if r == rep)) for rep in reps}
    clocks = sum(t.clocks for t in by_tier)
    breached = sum(t.breached for t in by_tier)
    return SlaMetrics(clocks=clocks, breached=breached, breach_rate=ratio(breached, clocks),
                      escalated=sum(t.escalated for t in by_tier), by_tier=by_tier), per_rep


def conversion_metrics(totals: Totals, leads_total: int, to_rep: int) -> ConversionMetrics:
    """Each lead counts once per event type it reached and once per funnel stage."""
    events = {key: count_of(totals, name, key) for (name, key) in totals
              if name == "event" and count_of(totals, name, key)}
    counts = [("leads", "Leads", leads_total), ("assigned", "Assigned to a rep", to_rep)]
    counts += [(stage, label, count_of(totals, "funnel", stage)) for stage, label, _ in FUNNEL]
    stages = [FunnelStage(stage=stage, label=label, leads=n,
                          of_previous=ratio(n, counts[i - 1][2]) if i else None,
                          of_leads=ratio(n, leads_total))
              for i, (stage, label, n) in enumerate(counts)]
    return ConversionMetrics(stages=stages, events=dict(sorted(events.items())))
