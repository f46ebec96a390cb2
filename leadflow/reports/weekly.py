"""The weekly review's numbers (`leadflow report weekly`, docs/weekly.md).

Every query is bounded by the weeks it covers: the leads that arrived in them come from the
arrival index (`ingested_at`), and their events, sources, follow-up clocks, queue items,
measured step times (`metric_values`), running-sum contributions (`lead_facts`) and model
scores are read by lead id. Nothing reads the whole history, so a report costs the same at
a million leads as at a thousand leads a week. The funnel is by arrival cohort: the leads
that arrived in a week and how far each has got by the report's moment (`as_of`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from leadflow.config import CONFIG_DIR, IcpConfig, read_yaml
from leadflow.reports.calibration import Calibration, calibration
from leadflow.reports.thresholds import Finding, Rate, Scored, judge_cuts, wilson
from leadflow.tools.crm import QUEUES, Assignment, Lead, QueueItem, SlaClock
from leadflow.tools.crm.schema import EngagementEvent, LeadFacts, LeadSource, MetricValue

# The funnel after capture; a lead counts at a stage when it reached it or any later one
# (events.FUNNEL's rule), and won and lost are the two ends.
STAGES = ("captured", "qualified", "routed", "contacted", "replied", "meeting", "won", "lost")
_REACH = {"contacted": 1, "replied": 2, "meeting_booked": 3, "closed_won": 4}
DIMENSIONS = {"source": "channel", "campaign": "campaign", "tier": "tier", "rep": "rep"}
NONE = "(none)"


class WeeklyRules(BaseModel):
    """`config/reports.yaml`."""

    trend_weeks: int = 8
    confidence: float = 0.95
    min_leads: int = 30
    band_points: int = 5
    calibration_bins: int = 10
    calibration_min_leads: int = 30
    psi_watch: float = 0.10
    psi_drift: float = 0.25


def positive_events() -> tuple[str, ...]:
    """What counts as a conversion: scoring.yaml's `positive_events`, the label the models
    learn (read here rather than through leadflow.scoring.features, which loads the agents)."""
    raw = read_yaml(CONFIG_DIR / "scoring.yaml")
    return tuple(raw.get("positive_events") or ("meeting_booked", "closed_won"))


def load_rules() -> WeeklyRules:
    raw = read_yaml(CONFIG_DIR / "reports.yaml")
    test, cal = raw.get("threshold_test") or {}, raw.get("calibration") or {}
    return WeeklyRules(trend_weeks=raw.get("trend_weeks", 8),
                       confidence=test.get("confidence", 0.95),
                       min_leads=test.get("min_leads", 30), band_points=test.get("band_points", 5),
                       calibration_bins=cal.get("bins", 10),
                       calibration_min_leads=cal.get("min_leads", 30),
                       psi_watch=cal.get("psi_watch", 0.10), psi_drift=cal.get("psi_drift", 0.25))


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday 00:00 UTC to the next Monday."""

    label: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date) -> Week:
        year, week, _ = day.isocalendar()
        monday = date.fromisocalendar(year, week, 1)
        start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        return cls(f"{year}-W{week:02d}", start, start + timedelta(days=7))

    @classmethod
    def parse(cls, text: str) -> Week:
        """`2026-W48` (ISO 8601 week)."""
        try:
            year, week = text.strip().upper().split("-W")
            return cls.of(date.fromisocalendar(int(year), int(week), 1))
        except ValueError:
            raise ValueError(f"not an ISO week: {text!r} (e.g. 2026-W48)") from None

    @classmethod
    def last_complete(cls, moment: datetime) -> Week:
        return cls.of((moment - timedelta(days=7)).date())

    def shifted(self, weeks: int) -> Week:
        return Week.of((self.start + timedelta(weeks=weeks)).date())


@dataclass(frozen=True)
class CohortLead:
    """One lead of the weeks read, with how far it got."""

    lead_id: str
    week: str
    channel: str
    campaign: str
    tier: str
    total: int | None
    status: str
    rep: str  # the rep it is routed to, NONE when not routed to a rep
    routed: bool  # assigned to a rep (not a manager, not a queue)
    reach: int  # 0 none, 1 contacted, 2 replied, 3 meeting, 4 won
    won: bool
    lost: bool
    converted: bool  # reached a positive event (scoring.yaml positive_events)

    def stages(self, worked_tiers: Sequence[str]) -> tuple[str, ...]:
        reached = ["captured"]
        if self.tier in worked_tiers:
            reached.append("qualified")
        if self.routed:
            reached.append("routed")
        reached += [s for s, n in (("contacted", 1), ("replied", 2), ("meeting", 3)) if
                    self.reach >= n]
        if self.won:
            reached.append("won")
        if self.lost:
            reached.append("lost")
        return tuple(reached)

    def value(self, dimension: str) -> str:
        return str(getattr(self, DIMENSIONS[dimension]))


Funnel = dict[str, int]


def funnel_of(leads: Iterable[CohortLead], worked_tiers: Sequence[str]) -> Funnel:
    counts = dict.fromkeys(STAGES, 0)
    for lead in leads:
        for stage in lead.stages(worked_tiers):
            counts[stage] += 1
    return counts


class Stat(BaseModel):
    """A set of durations: how many, and nearest-rank percentiles (values that occurred).
    (metrics.aggregates has the same; importing leadflow.metrics loads the whole dashboard.)"""

    count: int = 0
    p50: float | None = None
    p95: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Stat:
        ordered = sorted(values)
        if not ordered:
            return cls()
        return cls(count=len(ordered), p50=rank(ordered, 0.5), p95=rank(ordered, 0.95),
                   max=ordered[-1])


def rank(ordered: Sequence[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class QueueAge(BaseModel):
    queue: str
    open: int
    oldest_hours: float | None
    p95_hours: float | None


class QueueFlow(BaseModel):
    """The week's leads that entered a queue: how many, how many are still open, and how long
    the resolved ones waited."""

    queue: str
    entered: int
    still_open: int
    resolved_p95_hours: float | None


class RepSla(BaseModel):
    rep: str
    clocks: int
    met: int
    late: int  # touched after the deadline
    overdue: int  # untouched, running, past the deadline at `as_of`
    escalated: int
    breach_rate: float | None


class TierConversion(BaseModel):
    tier: str
    cut: int
    worked: int
    converted: int
    rate: float | None
    low: float | None
    high: float | None


class BandConversion(BaseModel):
    band: str
    tier: str
    worked: int
    converted: int
    rate: float | None


@dataclass
class WeeklyReport:
    week: Week
    as_of: datetime
    weeks: list[Week]
    worked_tiers: tuple[str, ...]
    positive_events: tuple[str, ...]
    funnel: Funnel
    previous: Funnel
    by_dimension: dict[str, dict[str, Funnel]]
    trend: dict[str, Funnel]
    trend_by_dimension: dict[str, dict[str, dict[str, Funnel]]]
    agent_durations: dict[str, Stat]
    agent_durations_previous: dict[str, Stat]
    waits: dict[str, Stat]
    queue_ages: list[QueueAge]
    queue_flow: list[QueueFlow]
    statuses: dict[str, int]
    error_codes: dict[str, int]
    error_examples: dict[str, list[str]]
    llm_fallbacks: dict[str, int]
    review_reasons: dict[str, int]
    sla: list[RepSla]
    tiers: list[TierConversion]
    bands: list[BandConversion]
    findings: list[Finding]
    calibration: Calibration
    rules: WeeklyRules = field(default_factory=WeeklyRules)


def weekly_report(conn: Connection, week: Week, as_of: datetime, icp: IcpConfig,
                  positive_events: Sequence[str], rules: WeeklyRules) -> WeeklyReport:
    """Every number of the report for `week`, outcomes as they stand at `as_of`."""
    weeks = [week.shifted(-k) for k in range(rules.trend_weeks - 1, -1, -1)]
    worked = tuple(icp.routing["assign_tiers"])
    previous = week.shifted(-1)
    read = _cohort(conn, min(weeks[0].start, previous.start), week.end, positive_events)
    by_week: dict[str, list[CohortLead]] = defaultdict(list)
    for lead in read:
        by_week[lead.week].append(lead)
    cohort = [lead for w in weeks for lead in by_week.get(w.label, [])]
    mine, before = by_week.get(week.label, []), by_week.get(previous.label, [])
    by_dimension = {dim: _grouped(mine, dim, worked) for dim in DIMENSIONS}
    trend = {w.label: funnel_of(by_week.get(w.label, []), worked) for w in weeks}
    trend_by_dimension = {dim: {w.label: _grouped(by_week.get(w.label, []), dim, worked)
                                for w in weeks} for dim in DIMENSIONS}
    values = _measured(conn, week.start, week.end)
    before_values = _measured(conn, previous.start, previous.end)
    facts = _facts(conn, week.start, week.end)
    tiers, bands, findings = _tier_conversion(cohort, icp, worked, rules)
    return WeeklyReport(
        week=week, as_of=as_of, weeks=weeks, worked_tiers=worked,
        positive_events=tuple(positive_events),
        funnel=funnel_of(mine, worked), previous=funnel_of(before, worked),
        by_dimension=by_dimension, trend=trend, trend_by_dimension=trend_by_dimension,
        agent_durations={k: Stat.of(v) for (n, k), v in sorted(values.items())
                         if n == "duration_ms"},
        agent_durations_previous={k: Stat.of(v) for (n, k), v in sorted(before_values.items())
                                  if n == "duration_ms"},
        waits={n: Stat.of(v) for (n, k), v in sorted(values.items())
               if n in ("speed_to_lead_s", "first_touch_s") and k == ""},
        queue_ages=_queue_ages(conn, as_of), queue_flow=_queue_flow(conn, week),
        statuses=dict(sorted(Counter(lead.status for lead in mine).items(),
                             key=lambda s: (-s[1], s[0]))),
        error_codes=facts[0], error_examples=facts[1], llm_fallbacks=facts[2],
        review_reasons=_review_reasons(conn, week),
        sla=_sla(conn, week, as_of), tiers=tiers, bands=bands, findings=findings,
        calibration=calibration(conn, week, weeks[0].start, as_of, positive_events, rules),
        rules=rules)


def _window(start: datetime, end: datetime) -> Any:
    return and_(Lead.ingested_at >= start, Lead.ingested_at < end)


def _cohort(conn: Connection, start: datetime, end: datetime,
            positive: Sequence[str]) -> list[CohortLead]:
    """The leads that arrived in [start, end): one row each, with the furthest event it
    reached (the events of those leads only, by the lead-id index)."""
    ids = select(Lead.id).where(_window(start, end))
    kind = EngagementEvent.event_type
    rank = case(*((kind == k, n) for k, n in _REACH.items()), else_=0)
    events = (select(EngagementEvent.lead_id, func.max(rank).label("reach"),
                     func.max(case((kind == "closed_won", 1), else_=0)).label("won"),
                     func.max(case((kind == "closed_lost", 1), else_=0)).label("lost"),
                     func.max(case((kind.in_(list(positive)), 1), else_=0)).label("positive"))
              .where(EngagementEvent.lead_id.in_(ids)).group_by(EngagementEvent.lead_id)
              .subquery())
    sources = (select(LeadSource.lead_id, func.min(LeadSource.campaign).label("campaign"))
               .where(LeadSource.lead_id.in_(ids)).group_by(LeadSource.lead_id).subquery())
    rows = conn.execute(
        select(Lead.id, Lead.ingested_at, Lead.channel, Lead.tier, Lead.bant_total, Lead.status,
               Lead.rep_id, Assignment.kind, sources.c.campaign, events.c.reach, events.c.won,
               events.c.lost, events.c.positive)
        .select_from(Lead)
        .outerjoin(Assignment, Assignment.lead_id == Lead.id)
        .outerjoin(sources, sources.c.lead_id == Lead.id)
        .outerjoin(events, events.c.lead_id == Lead.id)
        .where(_window(start, end))).all()
    out = []
    first = Week.of(start.date())
    labels: dict[int, str] = {}  # weeks since the first → its label
    for r in rows:
        routed = r.kind == "rep"
        arrived = r.ingested_at if r.ingested_at.tzinfo else r.ingested_at.replace(tzinfo=UTC)
        index = (arrived - first.start).days // 7
        if index not in labels:
            labels[index] = first.shifted(index).label
        out.append(CohortLead(
            lead_id=r.id, week=labels[index], channel=r.channel or NONE,
            campaign=r.campaign or NONE, tier=r.tier or NONE, total=r.bant_total,
            status=r.status or "in_progress", rep=(r.rep_id or NONE) if routed else NONE,
            routed=routed, reach=int(r.reach or 0), won=bool(r.won), lost=bool(r.lost),
            converted=bool(r.positive)))
    return out


def _grouped(leads: Iterable[CohortLead], dimension: str,
             worked: Sequence[str]) -> dict[str, Funnel]:
    groups: dict[str, list[CohortLead]] = defaultdict(list)
    for lead in leads:
        groups[lead.value(dimension)].append(lead)
    return {value: funnel_of(members, worked)
            for value, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))}


def _measured(conn: Connection, start: datetime,
              end: datetime) -> dict[tuple[str, str], list[float]]:
    """The step times and waits measured for the leads of [start, end) (every value is kept
    in `metric_values`, read by the lead-id index)."""
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for name, key, value in conn.execute(
            select(MetricValue.name, MetricValue.key, MetricValue.value)
            .join(Lead, Lead.id == MetricValue.lead_id).where(_window(start, end))):
        out[(str(name), str(key))].append(float(value))
    return out


def _facts(conn: Connection, start: datetime, end: datetime
           ) -> tuple[dict[str, int], dict[str, list[str]], dict[str, int]]:
    """Failed steps by agent and error type, and LLM fallbacks, from the contribution each
    lead of the week added to the running sums (leadflow/facts.py)."""
    codes: Counter[str] = Counter()
    fallbacks: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for lead_id, totals in conn.execute(
            select(LeadFacts.lead_id, LeadFacts.totals)
            .join(Lead, Lead.id == LeadFacts.lead_id).where(_window(start, end))
            .order_by(Lead.ingested_at, Lead.id)):
        for name, key, amount in totals or []:
            if name == "errors":
                codes[str(key)] += int(round(amount))
                if len(examples[str(key)]) < 3:
                    examples[str(key)].append(str(lead_id))
            elif name == "llm_fallback":
                fallbacks[str(key)] += int(round(amount))
    return (dict(sorted(codes.items(), key=lambda c: (-c[1], c[0]))), dict(examples),
            dict(sorted(fallbacks.items())))


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _queue_ages(conn: Connection, as_of: datetime) -> list[QueueAge]:
    """Open items per queue now: count, oldest and 95th-percentile age, from the open-items
    index (the p95 age is one index entry, found by its rank)."""
    out = []
    found = dict(conn.execute(select(QueueItem.queue, func.count())
                              .where(QueueItem.resolved_at.is_(None))
                              .group_by(QueueItem.queue)).all())
    for queue in (*QUEUES, *sorted(set(found) - set(QUEUES))):
        n = int(found.get(queue, 0))
        if not n:
            out.append(QueueAge(queue=queue, open=0, oldest_hours=None, p95_hours=None))
            continue
        def nth(offset: int, q: str = queue) -> datetime:
            return _utc(conn.execute(
                select(QueueItem.created_at)
                .where(QueueItem.queue == q, QueueItem.resolved_at.is_(None))
                .order_by(QueueItem.created_at).offset(offset).limit(1)).scalar_one())

        # ages ascending are creation times descending: nearest-rank p95 of n ages is the
        # item at (n - ceil(0.95 n)) from the oldest
        out.append(QueueAge(queue=queue, open=n, oldest_hours=_hours(as_of - nth(0)),
                            p95_hours=_hours(as_of - nth(n - math.ceil(0.95 * n)))))
    return out


def _queue_flow(conn: Connection, week: Week) -> list[QueueFlow]:
    rows = conn.execute(select(QueueItem.queue, QueueItem.created_at, QueueItem.resolved_at)
                        .join(Lead, Lead.id == QueueItem.lead_id)
                        .where(_window(week.start, week.end))).all()
    grouped: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for queue, created, resolved in rows:
        grouped[str(queue)].append((_utc(created), _utc(resolved) if resolved else None))
    out = []
    for queue in sorted(grouped, key=lambda q: (-len(grouped[q]), q)):
        items = grouped[queue]
        waited = [(r - c).total_seconds() / 3600 for c, r in items if r is not None]
        p95 = Stat.of(waited).p95
        out.append(QueueFlow(queue=queue, entered=len(items),
                             still_open=sum(r is None for _, r in items),
                             resolved_p95_hours=round(p95, 2) if p95 is not None else None))
    return out


def _review_reasons(conn: Connection, week: Week) -> dict[str, int]:
    """Why the week's leads went to manual review, grouped by the reason's text."""
    reasons = Counter(str(reason) for reason in conn.execute(
        select(QueueItem.reason).join(Lead, Lead.id == QueueItem.lead_id)
        .where(_window(week.start, week.end), QueueItem.queue == "manual_review")).scalars())
    return dict(sorted(reasons.items(), key=lambda r: (-r[1], r[0])))


def _sla(conn: Connection, week: Week, as_of: datetime) -> list[RepSla]:
    """The follow-up clocks of the week's leads by rep. Breached = first touched after the
    deadline, or untouched, still running and past it at `as_of` (the dashboard's rule)."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for rep, due, touched, escalated, state in conn.execute(
            select(SlaClock.rep_id, SlaClock.due_at, SlaClock.first_touch_at,
                   SlaClock.escalated_at, SlaClock.state)
            .join(Lead, Lead.id == SlaClock.lead_id).where(_window(week.start, week.end))):
        c = per[str(rep)]
        c["clocks"] += 1
        late = touched is not None and _utc(touched) > _utc(due)
        overdue = touched is None and state != "closed" and _utc(due) < as_of
        c["late"] += late
        c["overdue"] += overdue
        c["escalated"] += escalated is not None
    out = [RepSla(rep=rep, clocks=c["clocks"], met=c["clocks"] - c["late"] - c["overdue"],
                  late=c["late"], overdue=c["overdue"], escalated=c["escalated"],
                  breach_rate=round((c["late"] + c["overdue"]) / c["clocks"], 4))
           for rep, c in per.items()]
    return sorted(out, key=lambda r: (-(r.late + r.overdue), r.rep))


def _tier_conversion(cohort: Sequence[CohortLead], icp: IcpConfig, worked: Sequence[str],
                     rules: WeeklyRules
                     ) -> tuple[list[TierConversion], list[BandConversion], list[Finding]]:
    """Conversion of the worked leads (routed to a rep) of the trend weeks, by tier and by
    score band, and the threshold rule's findings (reports/thresholds.py)."""
    tiers = sorted(((t.name, t.min) for t in icp.tiers), key=lambda t: -t[1])
    scored = [lead for lead in cohort if lead.routed and lead.total is not None]
    out = []
    for name, cut in tiers:
        members = [x for x in scored if x.tier == name]
        rate: Rate = wilson(sum(x.converted for x in members), len(members), rules.confidence)
        out.append(TierConversion(tier=name, cut=cut, worked=rate.leads,
                                  converted=rate.converted, rate=_r(rate.rate),
                                  low=_r(rate.low), high=_r(rate.high)))
    bands: dict[int, list[CohortLead]] = defaultdict(list)
    for lead in scored:
        assert lead.total is not None
        bands[lead.total // rules.band_points * rules.band_points].append(lead)
    band_rows = []
    for low in sorted(bands, reverse=True):
        members = bands[low]
        n, k = len(members), sum(x.converted for x in members)
        band_rows.append(BandConversion(
            band=f"{low}–{low + rules.band_points - 1}", tier=icp.tier_for(low), worked=n,
            converted=k, rate=_r(k / n if n else None)))
    findings = judge_cuts(tiers, worked, [Scored(int(x.total), x.converted) for x in scored
                                          if x.total is not None],
                          confidence=rules.confidence, min_leads=rules.min_leads,
                          band=rules.band_points)
    return out, band_rows, findings


def _r(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
