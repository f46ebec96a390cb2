"""The snapshot in Prometheus text exposition format for `GET /metrics`: metric names,
labels and help texts, rendered by prometheus_client."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from leadflow.metrics.aggregates import Stat
from leadflow.metrics.dashboard import DashboardMetrics


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
