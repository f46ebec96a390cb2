"""The whole SPEC §9 snapshot: `DashboardMetrics` and `snapshot()`, which opens one connection
and asks each metric module for its part (the dashboard feed and `/metrics` both start here)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select

from leadflow.config import IcpConfig, icp
from leadflow.metrics.funnel import (
    ConversionMetrics,
    FirstTouchMetrics,
    QualificationMetrics,
    RoutingMetrics,
    SlaMetrics,
    conversion_metrics,
    first_touch_metrics,
    qualification_metrics,
    routing_metrics,
    sla_metrics,
)
from leadflow.metrics.pipeline import (
    EnrichmentMetrics,
    ErrorMetrics,
    ProcessingMetrics,
    backfill_facts,
    enrichment_metrics,
    error_metrics,
    processing_metrics,
    read_totals,
)
from leadflow.metrics.priority import PriorityQueue, priority_queue
from leadflow.metrics.queues import (
    STALE_AFTER,
    BacklogMetrics,
    ReviewQueue,
    backlog_metrics,
    review_queue,
)
from leadflow.metrics.workload import RepWorkload, rep_workload
from leadflow.tools.crm import CrmStore, Lead
from leadflow.tools.reps import RepDirectory


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
    priority_queue: PriorityQueue  # reps' open leads by conversion priority


def snapshot(crm: CrmStore, reps: RepDirectory, now: datetime, *,
             rules: IcpConfig | None = None,
             stale_after: timedelta = STALE_AFTER) -> DashboardMetrics:
    """All SPEC §9 metrics from the CRM as of `now` (which decides overdue and stale)."""
    rules = rules or icp()
    with crm.engine.connect() as conn:
        statuses = {str(s or "in_progress"): int(n) for s, n in conn.execute(
            select(Lead.status, func.count()).group_by(Lead.status))}
    leads_total = sum(statuses.values())
    with crm.transaction() as conn:  # leads settled before the running sums existed
        backfill_facts(conn, leads_total - statuses.get("in_progress", 0), rules.target_tech)
    with crm.engine.connect() as conn:
        totals = read_totals(conn)
        sla, breaches_by_rep = sla_metrics(conn, totals, now)
        routing = routing_metrics(conn, totals)
        return DashboardMetrics(
            generated_at=now, leads_total=leads_total, statuses=statuses,
            processing=processing_metrics(conn, totals),
            backlog=backlog_metrics(conn, now, stale_after, statuses, totals),
            errors=error_metrics(totals), qualification=qualification_metrics(totals, leads_total),
            enrichment=enrichment_metrics(totals), routing=routing,
            first_touch=first_touch_metrics(conn, totals),
            sla=sla, conversion=conversion_metrics(totals, leads_total, routing.to_rep),
            reps=rep_workload(conn, reps, now, totals, breaches_by_rep),
            review_queue=review_queue(conn),
            priority_queue=priority_queue(conn),
        )
