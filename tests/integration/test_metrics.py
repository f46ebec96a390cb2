"""SPEC §9 metrics against a CRM filled by the real graph (tests/metrics_story.py), on SQLite
and PostgreSQL: every number is the one the story makes, worked out by hand below."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from leadflow.metrics import AGENTS, DashboardMetrics, Stat, prometheus_text, snapshot
from leadflow.toolbox import Toolbox
from tests.conftest import OpenCheckpoints, RunItems
from tests.metrics_story import NOW, Story, fill_crm

pytestmark = pytest.mark.db_backends
CAPTURE, ENRICHMENT, QUALIFICATION, ROUTING, FOLLOWUP = AGENTS


# One story per backend feeds many checks (it takes a few seconds on PostgreSQL); the
# check_* functions below are grouped into two tests by what they look at.
def test_what_the_graph_did(run_items: RunItems, tools: Toolbox,
                            checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    story = fill_crm(run_items, tools, checkpoints, tmp_path)
    metrics = snapshot(tools.crm, tools.reps, NOW)
    check_statuses_tiers_and_queues(metrics)
    check_outbox_backlog(metrics, tools)
    check_success_and_error_rates_per_agent(metrics)
    check_processing_time_from_the_step_log(metrics, story)
    check_enrichment_completeness(metrics)


def test_what_happened_after_routing(run_items: RunItems, tools: Toolbox,
                                     checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    story = fill_crm(run_items, tools, checkpoints, tmp_path)
    metrics = snapshot(tools.crm, tools.reps, NOW)
    check_routing_first_touch_and_sla(metrics)
    check_conversion_funnel_and_rep_workload(metrics, story)
    check_prometheus_text_has_the_same_numbers(metrics)


def check_statuses_tiers_and_queues(metrics: DashboardMetrics) -> None:
    # 9 items: D-1 merged into H-1, so 8 leads. After the sweep at +25 h, W-1 and T-1 (never
    # touched) are escalated, like E-1 whose routing crashed; H-1 closed won → routed.
    assert metrics.leads_total == 8
    assert metrics.statuses == {"routed": 1, "awaiting_followup": 1, "escalated": 3,
                                "manual_review": 1, "marketing": 1, "nurture": 1}
    tiers = {t.tier: (t.leads, t.avg_bant) for t in metrics.qualification.tiers}
    # W-1's "budget not yet allocated" states no budget (63); U-1, an intern, is a non-buyer
    # on every criterion (8)
    assert tiers == {"hot": (4, 92.25), "warm": (1, 63.0), "cold": (1, 54.0),
                     "unqualified": (1, 8.0)}  # hot: H-1 93, H-2 95, E-1 93, T-1 88
    assert (metrics.qualification.scored, metrics.qualification.unscored) == (7, 1)  # M-1
    assert [t.share for t in metrics.qualification.tiers] == [0.5714, 0.1429, 0.1429, 0.1429]
    queues = {q.queue: (q.open, q.stale, q.oldest_age_hours) for q in metrics.backlog.queues}
    # every item was queued at START, 30 h before NOW: all of them are backlog (> 24 h)
    assert {k: v for k, v in queues.items() if v[0]} == {
        "manual_review": (1, 1, 30.0), "nurture": (1, 1, 30.0), "marketing": (1, 1, 30.0)}
    assert metrics.backlog.awaiting_followup == 3  # H-2, W-1, T-1: clocks not closed
    assert metrics.backlog.in_progress == 0


def check_outbox_backlog(metrics: DashboardMetrics, tools: Toolbox) -> None:
    notifications = tools.crm.notifications()
    assert metrics.backlog.outbox_pending == len(notifications) > 0  # nothing delivered
    assert metrics.backlog.outbox_failed == 0


def check_success_and_error_rates_per_agent(metrics: DashboardMetrics) -> None:
    agents = {a.agent: (a.runs, a.succeeded, a.failed, a.errors)
              for a in metrics.processing.agents}
    # D-1 (H-1 writing again) ran H-1's capture, enrichment, qualification and routing a
    # second time on its thread: the step counts include that pass.
    assert agents == {
        CAPTURE: (9, 8, 1, {"data_quality": 1}),  # M-1 had no usable contact
        ENRICHMENT: (8, 7, 1, {"timeout": 1}),  # T-1's enrichment timed out
        QUALIFICATION: (8, 8, 0, {}),
        ROUTING: (8, 7, 1, {"RuntimeError": 1}),  # E-1's routing raised
        FOLLOWUP: (4, 4, 0, {}),  # H-1, H-2, W-1, T-1
    }
    success = {a.agent: a.success_rate for a in metrics.processing.agents}
    assert success == {CAPTURE: 0.8889, ENRICHMENT: 0.875, QUALIFICATION: 1.0,
                       ROUTING: 0.875, FOLLOWUP: 1.0}
    errors = metrics.errors
    assert (errors.steps, errors.failed_steps, errors.error_rate) == (37, 3, 0.0811)
    assert (errors.leads_with_errors, errors.lead_error_rate) == (3, 0.375)
    assert errors.by_type == {"data_quality": 1, "timeout": 1, "RuntimeError": 1}
    assert errors.llm_fallbacks == {"llm_error": 0, "llm_invalid_output": 0, "circuit_open": 0}


def check_processing_time_from_the_step_log(metrics: DashboardMetrics, story: Story) -> None:
    # The graph's own outcome records: D-1's is H-1's lead after the repeat merged into it
    # (both passes), which is what the CRM keeps for H-1.
    runs = [o for source, o in story.by_source.items() if source != "H-1"]
    per_agent: dict[str, list[float]] = {name: [] for name in AGENTS}
    per_lead = []
    for outcome in runs:
        timed = [d for d in outcome["decisions"] if d["duration_ms"] is not None]
        for d in timed:
            per_agent[d["agent"]].append(d["duration_ms"])
        per_lead.append(sum(d["duration_ms"] for d in timed))
    for agent in metrics.processing.agents:
        expected = per_agent[agent.agent]
        assert agent.duration_ms.count == len(expected)
        assert agent.duration_ms.mean == pytest.approx(sum(expected) / len(expected), abs=1e-3)
        assert agent.duration_ms.max == max(expected)
    # a raised step reports no time; a timed-out one reports the time it was given
    routing = next(a for a in metrics.processing.agents if a.agent == ROUTING)
    assert (routing.runs, routing.duration_ms.count) == (8, 7)
    assert max(per_agent[ENRICHMENT]) >= 50.0  # T-1: the 50 ms timeout
    lead = metrics.processing.per_lead_ms
    assert lead.count == 8
    assert lead.total == pytest.approx(sum(per_lead), abs=1e-2)
    assert lead.max == pytest.approx(max(per_lead), abs=1e-3)


def check_enrichment_completeness(metrics: DashboardMetrics) -> None:
    e = metrics.enrichment
    # enriched: H-1, H-2, W-1, C-1, U-1, E-1 (T-1 timed out); W-1 and E-1 not in the KB
    assert (e.enriched, e.kb_matched, e.kb_match_rate, e.limited_data) == (6, 4, 0.6667, 2)
    assert e.field_fill["contact.email"] == 1.0
    assert e.field_fill["contact.phone"] == 0.0  # the forms carry no phone
    # the KB fills firmographics for the four it knows; industry is also read off E-1's name
    assert e.field_fill["company.employees"] == e.field_fill["company.funding"] == 0.6667
    assert e.field_fill["company.industry"] == 0.8333
    filled = sum(e.field_fill.values())  # mean completeness = mean fill over the 12 fields
    assert e.completeness == pytest.approx(filled / 12, abs=1e-4)
    assert set(e.quality) == {"contact_completeness", "company_intelligence",
                              "decision_maker", "technology_fit"}
    assert all(1 <= v <= 5 for v in e.quality.values())


def check_routing_first_touch_and_sla(metrics: DashboardMetrics) -> None:
    r = metrics.routing
    assert (r.to_rep, r.to_manager, r.success_rate) == (4, 1, 0.8)
    assert sum(r.by_rule.values()) == 5 and r.by_rule["escalate"] == 1
    # the clock is frozen while a lead goes through the graph: arrival → rep takes 0 s
    assert (r.speed_to_lead_s.count, r.speed_to_lead_s.max) == (4, 0.0)

    touch = metrics.first_touch  # H-1 contacted after 20 min, H-2 after 90 min
    assert touch.touched == 2
    assert (touch.seconds.mean, touch.seconds.p50, touch.seconds.max) == (3300.0, 1200.0,
                                                                          5400.0)
    assert list(touch.by_tier) == ["hot"]

    sla = metrics.sla  # hot: H-1 met, H-2 late, T-1 overdue; warm: W-1 overdue
    by_tier = {t.tier: (t.clocks, t.met, t.breached_late, t.breached_overdue, t.escalated)
               for t in sla.by_tier}
    assert by_tier == {"hot": (3, 1, 1, 1, 1), "warm": (1, 0, 0, 1, 1)}
    assert (sla.clocks, sla.breached, sla.breach_rate, sla.escalated) == (4, 3, 0.75, 2)


def check_conversion_funnel_and_rep_workload(metrics: DashboardMetrics,
                                              story: Story) -> None:
    stages = [(s.stage, s.leads, s.of_previous) for s in metrics.conversion.stages]
    assert stages == [("leads", 8, None), ("assigned", 4, 0.5), ("contacted", 2, 0.5),
                      ("meeting", 1, 0.5), ("opportunity", 1, 1.0)]
    assert metrics.conversion.events == {"contacted": 2, "meeting_booked": 1, "closed_won": 1}

    reps = {r.rep_id: (r.open_leads, r.assigned_total, r.sla_breaches) for r in metrics.reps}
    h1, h2, w1, t1 = (story.rep(s) for s in ("H-1", "H-2", "W-1", "T-1"))
    assert w1 == t1 and len({h1, h2, w1}) == 3  # (the story relies on this)
    assert reps[h1] == (0, 1, 0)  # closed won: no longer open
    assert reps[h2] == (1, 1, 1)  # touched late
    assert reps[w1] == (2, 2, 2)  # W-1 and T-1, both overdue
    assert sum(v[1] for v in reps.values()) == 4  # managers are not reps
    workload = next(r for r in metrics.reps if r.rep_id == w1)
    assert workload.load_ratio == round(2 / workload.capacity, 4)


def check_prometheus_text_has_the_same_numbers(metrics: DashboardMetrics) -> None:
    text = prometheus_text(metrics)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("leadflow_leads_by_tier", tier="hot") == 4
    assert value("leadflow_leads", status="escalated") == 3
    assert value("leadflow_agent_steps_total", agent=ROUTING, result="failure") == 1
    assert value("leadflow_agent_step_errors_total", agent=ROUTING, type="RuntimeError") == 1
    assert value("leadflow_agent_success_ratio", agent=CAPTURE) == 0.8889
    assert value("leadflow_first_touch_seconds", tier="hot", quantile="0.5") == 1200
    assert value("leadflow_first_touch_seconds_sum", tier="hot") == 6600
    assert value("leadflow_first_touch_seconds_count", tier="hot") == 2
    assert value("leadflow_lead_processing_seconds_count") == 8
    assert math.isclose(value("leadflow_lead_processing_seconds_sum"),
                        metrics.processing.per_lead_ms.total / 1000)
    assert value("leadflow_sla_breaches", tier="hot", kind="late") == 1
    assert value("leadflow_queue_oldest_item_age_seconds", queue="nurture") == 30 * 3600
    assert value("leadflow_routing_success_ratio") == 0.8
    assert value("leadflow_funnel_leads", stage="meeting") == 1
    # every family is announced with HELP and TYPE before its samples
    for family in text_string_to_metric_families(text):
        name = f"{family.name}_total" if family.type == "counter" else family.name
        assert f"# HELP {name} " in text and f"# TYPE {name} " in text


def test_an_empty_crm_has_no_made_up_numbers(tools: Toolbox) -> None:
    empty = snapshot(tools.crm, tools.reps, NOW)
    assert empty.leads_total == 0 and empty.processing.per_lead_ms.mean is None
    assert empty.routing.success_rate is None and empty.sla.breach_rate is None
    assert all(s.leads == 0 for s in empty.conversion.stages)
    assert len(empty.reps) == len(tools.reps.reps)
    families = {f.name: f for f in text_string_to_metric_families(prometheus_text(empty))}
    assert len(families["leadflow_rep_capacity"].samples) == len(tools.reps.reps)
    # an undefined ratio is announced but has no sample (absent, not a made-up 0)
    assert families["leadflow_routing_success_ratio"].samples == []


def test_label_values_are_escaped(tools: Toolbox) -> None:
    odd = 'we"ird\\status\nline'
    base = snapshot(tools.crm, tools.reps, NOW)
    text = prometheus_text(base.model_copy(update={"statuses": {odd: 2}}))
    [sample] = [s for f in text_string_to_metric_families(text) if f.name == "leadflow_leads"
                for s in f.samples]
    assert sample.labels == {"status": odd} and sample.value == 2
    assert '\\"' in text and "\\n" in text


@pytest.mark.parametrize(("values", "expected"), [
    ([], {"count": 0, "mean": None, "p50": None, "p95": None}),
    ([7.0], {"count": 1, "mean": 7.0, "p50": 7.0, "p95": 7.0, "max": 7.0}),
    ([float(v) for v in range(10, 0, -1)],  # nearest rank: ceil(.5·10)=5th, ceil(.95·10)=10th
     {"count": 10, "total": 55.0, "mean": 5.5, "p50": 5.0, "p95": 10.0, "max": 10.0}),
])
def test_stat_uses_nearest_rank_percentiles(values: list[float],
                                            expected: dict[str, Any]) -> None:
    stat = Stat.of(values).model_dump()
    assert {k: stat[k] for k in expected} == expected
