"""Sales-ops metrics (SPEC §9) computed from the CRM, for the dashboard and Prometheus.

Counts come from SQL aggregates (SQLAlchemy Core, portable between SQLite and PostgreSQL);
what only the JSON outcome record knows (per-step timing, outcome and error type, flags, the
enriched record) is read from `leads.outcome` in Python, one streamed pass. Durations that
need date arithmetic are subtracted in Python too: date maths is the least portable SQL.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, Field
from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.engine import Connection

from leadflow.agents.enrichment import QUALITY_KEYS, score_quality
from leadflow.config import IcpConfig, icp
from leadflow.followup import TOUCHES
from leadflow.graph.messages import AGENT_NAMES
from leadflow.tools.crm import (
    QUEUES,
    Account,
    Assignment,
    Contact,
    CrmStore,
    EngagementEvent,
    Lead,
    Notification,
    QueueItem,
    SlaClock,
)
from leadflow.tools.reps import RepDirectory

TIERS = ("hot", "warm", "cold", "unqualified")
AGENTS = tuple(name for key, name in AGENT_NAMES.items() if key != "supervisor")
# Fields enrichment tries to fill; completeness is the share of them a lead ends up with.
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title")
COMPANY_FIELDS = ("domain", "industry", "employees", "revenue_usd", "country", "tech_stack",
                  "funding")
# Flags that mean the LLM level failed and the rules decided (SPEC §6 API/LLM failure).
LLM_FAILURE_FLAGS = ("llm_error", "llm_invalid_output", "circuit_open")
# A queue item open longer than this counts as backlog.
STALE_AFTER = timedelta(hours=24)
# The dashboard lists at most this many open manual-review items (newest first).
REVIEW_QUEUE_LIMIT = 50


class Stat(BaseModel):
    """A set of durations: count, sum, mean and nearest-rank percentiles."""

    count: int = 0
    total: float = 0.0
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Stat:
        ordered = sorted(values)
        if not ordered:
            return cls()
        total = math.fsum(ordered)
        return cls(count=len(ordered), total=round(total, 3),
                   mean=round(total / len(ordered), 3), p50=_rank(ordered, 0.5),
                   p95=_rank(ordered, 0.95), max=ordered[-1])


def _rank(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that really occurred, no interpolation."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class AgentMetrics(BaseModel):
    agent: str
    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    success_rate: float | None = None
    duration_ms: Stat = Field(default_factory=Stat)
    errors: dict[str, int] = Field(default_factory=dict)  # error type → failed steps


class ProcessingMetrics(BaseModel):
    per_lead_ms: Stat  # the sum of a lead's step durations (its active processing time)
    agents: list[AgentMetrics]


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


class ErrorMetrics(BaseModel):
    steps: int
    failed_steps: int
    error_rate: float | None  # failed steps / steps
    leads_with_errors: int
    lead_error_rate: float | None  # leads with a failed step / leads with steps
    by_type: dict[str, int]  # failed steps by type: data_quality, timeout, an exception class
    llm_fallbacks: dict[str, int]  # leads whose LLM level failed, by flag


class TierMetrics(BaseModel):
    tier: str
    leads: int
    share: float | None
    avg_bant: float | None


class QualificationMetrics(BaseModel):
    tiers: list[TierMetrics]
    scored: int
    unscored: int  # never reached a tier (e.g. manual review before qualification)


class EnrichmentMetrics(BaseModel):
    enriched: int  # leads whose enrichment step succeeded
    kb_matched: int
    kb_match_rate: float | None
    limited_data: int
    completeness: float | None  # mean share of CONTACT_FIELDS + COMPANY_FIELDS filled
    field_fill: dict[str, float]  # field → share of enriched leads that have it
    quality: dict[str, float]  # the four 1–5 data-quality scores, averaged


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


class DashboardMetrics(BaseModel):
    """Every SPEC §9 metric at one moment; `model_dump(mode="json")` is the dashboard feed."""

    generated_at: datetime
    leads_total: int
    statuses: dict[str, int]
    processing: ProcessingMetrics
    backlog: BacklogMetrics
    errors: ErrorMetrics
    qualification: QualificationMetrics
    enrichment: EnrichmentMetrics
    routing: RoutingMetrics
    first_touch: FirstTouchMetrics
    sla: SlaMetrics
    conversion: ConversionMetrics
    reps: list[RepWorkload]
    review_queue: ReviewQueue


# ------------------------------------------------------------------------------- snapshot
def snapshot(crm: CrmStore, reps: RepDirectory, now: datetime, *,
             rules: IcpConfig | None = None,
             stale_after: timedelta = STALE_AFTER) -> DashboardMetrics:
    """All SPEC §9 metrics from the CRM as of `now` (which decides overdue and stale)."""
    rules = rules or icp()
    with crm.engine.connect() as conn:
        statuses = {str(s or "in_progress"): int(n) for s, n in conn.execute(
            select(Lead.status, func.count()).group_by(Lead.status))}
        leads_total = sum(statuses.values())
        scan = _OutcomeScan(rules.target_tech)
        scan.feed(_outcomes(conn))
        sla, breaches_by_rep = _sla(conn, now)
        routing = _routing(conn)
        return DashboardMetrics(
            generated_at=now, leads_total=leads_total, statuses=statuses,
            processing=scan.processing(), backlog=_backlog(conn, now, stale_after, statuses),
            errors=scan.errors(), qualification=_qualification(conn),
            enrichment=scan.enrichment(), routing=routing, first_touch=_first_touch(conn),
            sla=sla, conversion=_conversion(conn, leads_total, routing.to_rep),
            reps=_reps(conn, reps, now, breaches_by_rep),
            review_queue=_review_queue(conn),
        )


def _outcomes(conn: Connection) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=500).execute(select(Lead.outcome))
    for (outcome,) in result:
        if isinstance(outcome, dict):
            yield outcome


class _OutcomeScan:
    """One pass over the outcome records: per-step timing and results, flags, fields."""

    def __init__(self, target_tech: tuple[str, ...]) -> None:
        self.target_tech = target_tech
        self.runs: Counter[str] = Counter()
        self.ok: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.durations: dict[str, list[float]] = {name: [] for name in AGENTS}
        self.agent_errors: dict[str, Counter[str]] = {name: Counter() for name in AGENTS}
        self.per_lead: list[float] = []
        self.leads_with_steps = 0
        self.leads_with_errors = 0
        self.llm_flags: Counter[str] = Counter()
        self.enriched = self.kb_matched = self.limited = 0
        self.filled: Counter[str] = Counter()
        self.completeness: list[float] = []
        self.quality: dict[str, list[int]] = {key: [] for key in QUALITY_KEYS}

    def feed(self, outcomes: Iterable[dict[str, Any]]) -> None:
        for outcome in outcomes:
            self._lead(outcome)

    def _lead(self, outcome: dict[str, Any]) -> None:
        flags = set(outcome.get("flags") or [])
        self.llm_flags.update(flag for flag in LLM_FAILURE_FLAGS if flag in flags)
        timed: list[float] = []
        ran = errored = enriched = False
        for step in outcome.get("decisions") or []:
            agent = step.get("agent") or AGENT_NAMES.get(step.get("step") or "")
            result = step.get("outcome")
            if agent not in self.durations or result not in ("success", "failure",
                                                            "duplicate"):
                continue  # a person's decision, or a record written before steps had results
            ran = True
            self.runs[agent] += 1
            if result == "failure":
                errored = True
                self.failed[agent] += 1
                self.agent_errors[agent][step.get("error_type") or "unknown"] += 1
            else:
                self.ok[agent] += 1
                enriched = enriched or agent == AGENT_NAMES["enrichment"]
            duration = step.get("duration_ms")
            if isinstance(duration, int | float):
                self.durations[agent].append(float(duration))
                timed.append(float(duration))
        self.leads_with_steps += ran
        self.leads_with_errors += errored
        if timed:
            self.per_lead.append(round(math.fsum(timed), 3))
        if enriched:
            self._enrichment(outcome, flags)

    def _enrichment(self, outcome: dict[str, Any], flags: set[str]) -> None:
        contact = outcome.get("contact") or {}
        company = outcome.get("company") or {}
        self.enriched += 1
        self.kb_matched += "unknown_company" not in flags
        self.limited += "limited_data" in flags
        have = [f"contact.{f}" for f in CONTACT_FIELDS if contact.get(f)]
        have += [f"company.{f}" for f in COMPANY_FIELDS if company.get(f) not in (None, "",
                                                                                  "other", [])]
        self.filled.update(have)
        self.completeness.append(len(have) / (len(CONTACT_FIELDS) + len(COMPANY_FIELDS)))
        quality = score_quality({"contact": contact, "company": company}, self.target_tech)
        for key in QUALITY_KEYS:
            self.quality[key].append(getattr(quality, key))

    def processing(self) -> ProcessingMetrics:
        agents = [AgentMetrics(agent=name, runs=self.runs[name], succeeded=self.ok[name],
                               failed=self.failed[name],
                               success_rate=_ratio(self.ok[name], self.runs[name]),
                               duration_ms=Stat.of(self.durations[name]),
                               errors=dict(self.agent_errors[name].most_common()))
                  for name in AGENTS]
        return ProcessingMetrics(per_lead_ms=Stat.of(self.per_lead), agents=agents)

    def errors(self) -> ErrorMetrics:
        steps, failed = sum(self.runs.values()), sum(self.failed.values())
        by_type: Counter[str] = Counter()
        for counts in self.agent_errors.values():
            by_type.update(counts)
        return ErrorMetrics(
            steps=steps, failed_steps=failed, error_rate=_ratio(failed, steps),
            leads_with_errors=self.leads_with_errors,
            lead_error_rate=_ratio(self.leads_with_errors, self.leads_with_steps),
            by_type=dict(by_type.most_common()),
            llm_fallbacks={flag: self.llm_flags[flag] for flag in LLM_FAILURE_FLAGS})

    def enrichment(self) -> EnrichmentMetrics:
        fields = [f"contact.{f}" for f in CONTACT_FIELDS] + [f"company.{f}"
                                                             for f in COMPANY_FIELDS]
        n = self.enriched
        return EnrichmentMetrics(
            enriched=n, kb_matched=self.kb_matched, kb_match_rate=_ratio(self.kb_matched, n),
            limited_data=self.limited,
            completeness=round(math.fsum(self.completeness) / n, 4) if n else None,
            field_fill={f: round(self.filled[f] / n, 4) for f in fields} if n else {},
            quality={k: round(sum(v) / n, 3) for k, v in self.quality.items()} if n else {})


def _one(conn: Connection, query: Any) -> int:
    return int(conn.execute(query).scalar() or 0)


def _count_if(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a conditional count in any dialect."""
    return func.sum(case((condition, 1), else_=0))


def _backlog(conn: Connection, now: datetime, stale_after: timedelta,
             statuses: dict[str, int]) -> BacklogMetrics:
    rows = conn.execute(
        select(QueueItem.queue, func.count(), func.min(QueueItem.created_at),
               _count_if(QueueItem.created_at < now - stale_after))
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
        awaiting_followup=_one(conn, select(func.count()).select_from(SlaClock)
                               .where(SlaClock.state != "closed")),
        outbox_pending=_one(conn, select(func.count()).select_from(Notification)
                            .where(undelivered)),
        outbox_failed=_one(conn, select(func.count()).select_from(Notification)
                           .where(Notification.failed_at.is_not(None))))


def _review_queue(conn: Connection, limit: int = REVIEW_QUEUE_LIMIT) -> ReviewQueue:
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
    return ReviewQueue(open=_one(conn, select(func.count()).select_from(QueueItem)
                                 .where(is_open)), limit=limit, items=items)


def _qualification(conn: Connection) -> QualificationMetrics:
    rows = {tier: (int(n), avg) for tier, n, avg in conn.execute(
        select(Lead.tier, func.count(), func.avg(Lead.bant_total)).group_by(Lead.tier))}
    scored = sum(n for tier, (n, _) in rows.items() if tier is not None)
    tiers = []
    for tier in (*TIERS, *sorted(t for t in rows if t is not None and t not in TIERS)):
        n, avg = rows.get(tier, (0, None))
        tiers.append(TierMetrics(tier=tier, leads=n, share=_ratio(n, scored),
                                 avg_bant=round(float(avg), 2) if avg is not None else None))
    return QualificationMetrics(tiers=tiers, scored=scored,
                                unscored=rows.get(None, (0, None))[0])


def _routing(conn: Connection) -> RoutingMetrics:
    kinds = {kind: int(n) for kind, n in conn.execute(
        select(Assignment.kind, func.count()).group_by(Assignment.kind))}
    rules: Counter[str] = Counter()
    for (audit,) in conn.execute(select(Assignment.audit)):
        rules[str((audit or {}).get("rule") or "unknown")] += 1
    speeds = conn.execute(select(Assignment.speed_to_lead_seconds).where(
        Assignment.kind == "rep", Assignment.speed_to_lead_seconds.is_not(None))).scalars()
    to_rep, to_manager = kinds.get("rep", 0), kinds.get("manager", 0)
    return RoutingMetrics(to_rep=to_rep, to_manager=to_manager,
                          success_rate=_ratio(to_rep, to_rep + to_manager),
                          by_rule=dict(rules.most_common()),
                          speed_to_lead_s=Stat.of(float(s) for s in speeds if s is not None))


def _first_touch(conn: Connection) -> FirstTouchMetrics:
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


def _sla(conn: Connection, now: datetime) -> tuple[SlaMetrics, dict[str, int]]:
    """Breached = first touched after its deadline, or untouched, still open and past it."""
    late = SlaClock.first_touch_at > SlaClock.due_at
    overdue = and_(SlaClock.first_touch_at.is_(None), SlaClock.state != "closed",
                   SlaClock.due_at < now)
    rows = conn.execute(
        select(SlaClock.tier, func.count(), _count_if(late), _count_if(overdue),
               _count_if(SlaClock.escalated_at.is_not(None)))
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
        select(SlaClock.rep_id, _count_if(or_(late, overdue))).group_by(SlaClock.rep_id))}
    clocks = sum(t.clocks for t in by_tier)
    breached = sum(t.breached for t in by_tier)
    return SlaMetrics(clocks=clocks, breached=breached, breach_rate=_ratio(breached, clocks),
                      escalated=sum(t.escalated for t in by_tier), by_tier=by_tier), per_rep


# Funnel stages after "assigned to a rep": a lead counts at every stage up to the furthest
# event it reached, so each stage holds the next one.
_FUNNEL = (
    ("contacted", "Contacted", (*TOUCHES, "closed_won")),
    ("meeting", "Meeting booked", ("meeting_booked", "closed_won")),
    ("opportunity", "Opportunity (closed won)", ("closed_won",)),
)


def _conversion(conn: Connection, leads_total: int, to_rep: int) -> ConversionMetrics:
    events = {kind: int(n) for kind, n in conn.execute(
        select(EngagementEvent.event_type, func.count(distinct(EngagementEvent.lead_id)))
        .group_by(EngagementEvent.event_type))}
    counts = [("leads", "Leads", leads_total), ("assigned", "Assigned to a rep", to_rep)]
    for stage, label, kinds in _FUNNEL:
        counts.append((stage, label, _one(conn, select(
            func.count(distinct(EngagementEvent.lead_id)))
            .where(EngagementEvent.event_type.in_(kinds)))))
    stages = [FunnelStage(stage=stage, label=label, leads=n,
                          of_previous=_ratio(n, counts[i - 1][2]) if i else None,
                          of_leads=_ratio(n, leads_total))
              for i, (stage, label, n) in enumerate(counts)]
    return ConversionMetrics(stages=stages, events=dict(sorted(events.items())))


def _reps(conn: Connection, reps: RepDirectory, now: datetime,
          breaches: dict[str, int]) -> list[RepWorkload]:
    loads = {rep: (int(total), int(open_ or 0)) for rep, total, open_ in conn.execute(
        select(Assignment.rep_id, func.count(), _count_if(Assignment.is_open.is_(True)))
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


# ----------------------------------------------------------------------------- Prometheus
def prometheus_text(metrics: DashboardMetrics) -> str:
    """The snapshot in Prometheus text exposition format (rendered by prometheus_client)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(metrics))
    return generate_latest(registry).decode("utf-8")


class _SnapshotCollector(Collector):
    def __init__(self, metrics: DashboardMetrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.m
        yield _gauge("leadflow_leads", "Leads in the CRM by status.", ["status"],
                     {(s,): n for s, n in sorted(m.statuses.items())})
        yield _summary("leadflow_lead_processing_seconds",
                       "Active processing time per lead (sum of its step durations).",
                       [], {(): m.processing.per_lead_ms}, scale=1e-3)
        agents = m.processing.agents
        yield _summary("leadflow_agent_step_duration_seconds", "Step duration per agent.",
                       ["agent"], {(a.agent,): a.duration_ms for a in agents}, scale=1e-3)
        yield _counter("leadflow_agent_steps", "Steps run per agent, by result.",
                       ["agent", "result"],
                       {(a.agent, result): n for a in agents
                        for result, n in (("success", a.succeeded), ("failure", a.failed))})
        yield _gauge("leadflow_agent_success_ratio", "Successful steps / steps per agent.",
                     ["agent"], {(a.agent,): a.success_rate for a in agents})
        yield _counter("leadflow_agent_step_errors", "Failed steps per agent and error type.",
                       ["agent", "type"],
                       {(a.agent, t): n for a in agents for t, n in a.errors.items()})
        yield _counter("leadflow_llm_fallbacks", "Leads whose LLM level failed, by flag.",
                       ["flag"], {(f,): n for f, n in m.errors.llm_fallbacks.items()})
        yield _gauge("leadflow_error_ratio", "Failed steps / steps, all agents.", [],
                     {(): m.errors.error_rate})
        backlog = m.backlog
        yield _gauge("leadflow_queue_open_items", "Open items per queue.", ["queue"],
                     {(q.queue,): q.open for q in backlog.queues})
        yield _gauge("leadflow_queue_stale_items",
                     f"Items open longer than {backlog.stale_after_hours:g} h per queue.",
                     ["queue"], {(q.queue,): q.stale for q in backlog.queues})
        yield _gauge("leadflow_queue_oldest_item_age_seconds", "Age of the oldest open item.",
                     ["queue"], {(q.queue,): None if q.oldest_age_hours is None
                                 else q.oldest_age_hours * 3600 for q in backlog.queues})
        yield _gauge("leadflow_backlog", "Other backlogs: leads in progress, follow-ups "
                     "waiting, notifications pending or given up.", ["kind"], {
                         ("in_progress",): backlog.in_progress,
                         ("awaiting_followup",): backlog.awaiting_followup,
                         ("outbox_pending",): backlog.outbox_pending,
                         ("outbox_failed",): backlog.outbox_failed})
        yield _gauge("leadflow_leads_by_tier", "Qualified leads per tier.", ["tier"],
                     {(t.tier,): t.leads for t in m.qualification.tiers})
        enrichment = m.enrichment
        yield _gauge("leadflow_enrichment_kb_match_ratio",
                     "Enriched leads found in the knowledge base.", [],
                     {(): enrichment.kb_match_rate})
        yield _gauge("leadflow_enrichment_completeness_ratio",
                     "Mean share of contact and company fields filled after enrichment.", [],
                     {(): enrichment.completeness})
        yield _gauge("leadflow_enrichment_field_fill_ratio",
                     "Share of enriched leads with the field.", ["field"],
                     {(f,): v for f, v in enrichment.field_fill.items()})
        yield _gauge("leadflow_enrichment_quality_score", "Mean 1-5 data-quality score.",
                     ["dimension"], {(k,): v for k, v in enrichment.quality.items()})
        routing = m.routing
        yield _counter("leadflow_routing_assignments", "Assignments by kind (rep | manager).",
                       ["kind"], {("rep",): routing.to_rep, ("manager",): routing.to_manager})
        yield _gauge("leadflow_routing_success_ratio", "Assignments that reached a rep.", [],
                     {(): routing.success_rate})
        yield _summary("leadflow_speed_to_lead_seconds", "Arrival to rep assignment.", [],
                       {(): routing.speed_to_lead_s})
        yield _summary("leadflow_first_touch_seconds", "Arrival to the rep's first touch.",
                       ["tier"], {(t,): s for t, s in m.first_touch.by_tier.items()})
        yield _gauge("leadflow_sla_clocks", "Follow-up SLA clocks per tier.", ["tier"],
                     {(t.tier,): t.clocks for t in m.sla.by_tier})
        yield _gauge("leadflow_sla_breaches", "SLA breaches per tier (late | overdue).",
                     ["tier", "kind"],
                     {(t.tier, kind): n for t in m.sla.by_tier
                      for kind, n in (("late", t.breached_late),
                                      ("overdue", t.breached_overdue))})
        yield _gauge("leadflow_sla_escalations", "Leads escalated to a manager after 24 h.",
                     ["tier"], {(t.tier,): t.escalated for t in m.sla.by_tier})
        yield _gauge("leadflow_funnel_leads", "Leads reaching each conversion stage.",
                     ["stage"], {(s.stage,): s.leads for s in m.conversion.stages})
        yield _gauge("leadflow_rep_open_leads", "Open leads per rep.", ["rep"],
                     {(r.rep_id,): r.open_leads for r in m.reps})
        yield _gauge("leadflow_rep_capacity", "Open leads a rep can hold.", ["rep"],
                     {(r.rep_id,): r.capacity for r in m.reps})
        yield _gauge("leadflow_rep_load_ratio", "Open leads / capacity per rep.", ["rep"],
                     {(r.rep_id,): r.load_ratio for r in m.reps})
        yield _gauge("leadflow_rep_sla_breaches", "SLA breaches per rep.", ["rep"],
                     {(r.rep_id,): r.sla_breaches for r in m.reps})


Rows = Mapping[tuple[str, ...], float | int | None]


def _gauge(name: str, doc: str, labels: list[str], rows: Rows) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in rows.items():
        if value is not None:  # an undefined ratio is absent, not 0
            family.add_metric(list(values), float(value))
    return family


def _counter(name: str, doc: str, labels: list[str], rows: Rows) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for values, value in rows.items():
        family.add_metric(list(values), float(value or 0))
    return family


def _summary(name: str, doc: str, labels: list[str], rows: Mapping[tuple[str, ...], Stat],
             scale: float = 1.0) -> Metric:
    """A summary with quantile samples, `_sum` and `_count` (prometheus_client's
    SummaryMetricFamily has no quantiles, so the samples are added here)."""
    family = Metric(name, doc, "summary")
    for values, stat in rows.items():
        base = dict(zip(labels, values, strict=True))
        for quantile, value in (("0.5", stat.p50), ("0.95", stat.p95)):
            if value is not None:
                family.add_sample(name, {**base, "quantile": quantile}, value * scale)
        family.add_sample(f"{name}_sum", base, stat.total * scale)
        family.add_sample(f"{name}_count", base, float(stat.count))
    return family


__all__ = ["DashboardMetrics", "ReviewItem", "ReviewQueue", "Stat", "prometheus_text",
           "snapshot"]
