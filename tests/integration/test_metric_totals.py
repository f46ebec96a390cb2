"""The dashboard's running sums (issue 15): every lead counted once, as it stands now, however
often it settled (resumed after review, woken by events, merged with a repeat inquiry); a CRM
from before the sums fills them once; percentiles at scale come from a sample of values that
really occurred."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from leadflow.facts import lead_facts
from leadflow.followup import Wake, wake_lead
from leadflow.graph import build_graph
from leadflow.metrics import pipeline, snapshot
from leadflow.review import ReviewDecision, decide_review
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Lead
from leadflow.tools.crm.schema import LeadFacts, MetricTotal, MetricValue
from leadflow.tools.crm.summaries import settled_rows, summed
from leadflow.tools.erasure import forget
from tests.conftest import START, OpenCheckpoints, RunItems, form_item

pytestmark = pytest.mark.db_backends

ITEMS = [
    form_item("S-1"),  # hot: waits for engagement
    form_item("S-2", **{"Work Email": "li.wei@northwind-analytics.com",
                        "Company": "Northwind Analytics", "Job Title": "Sales Manager",
                        "message": "Interested in a demo, maybe within 6 months."}),  # cold
    form_item("S-3", **{"Work Email": "ana.silva@lumenhealth.com",
                        "message": "Our claims platform is failing and we must replace it "
                                   "urgently. Budget approved: $2.5M. We sign this month."}),
    form_item("S-4", message="Also: the EU sites need it too."),  # S-1 writes again
    form_item("S-5", **{"Work Email": None}),  # no usable contact: manual review
]


def recomputed(tools: Toolbox) -> dict[tuple[str, str], float]:
    """The sums as they must be: every lead's contribution from what the CRM holds now."""
    contributions = []
    with tools.crm.engine.connect() as conn:
        for lead_id, outcome in conn.execute(select(Lead.id, Lead.outcome).where(
                Lead.outcome.is_not(None))).all():
            contributions.append(lead_facts(outcome, target_tech=tools.icp.target_tech,
                                            **settled_rows(conn, lead_id))["totals"])
    return {k: v for k, v in summed(contributions).items() if round(v, 6)}


def stored(tools: Toolbox) -> dict[tuple[str, str], float]:
    with tools.crm.engine.connect() as conn:
        return {(n, k): v for n, k, v in conn.execute(
            select(MetricTotal.name, MetricTotal.key, MetricTotal.value)) if round(v, 6)}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 0.002
    return bool(a == b)


def close(a: dict[tuple[str, str], float], b: dict[tuple[str, str], float]) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 for k in a)


def test_every_lead_counts_once_as_it_stands(run_items: RunItems, tools: Toolbox,
                                             checkpoints: OpenCheckpoints) -> None:
    hot, _, big, _, _ = run_items(ITEMS)

    async def later() -> None:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            await decide_review(graph, tools, big["lead_id"],
                                ReviewDecision(action="approve", reviewer="vp"))
            await wake_lead(graph, hot["lead_id"], Wake(event="contacted"), tools)
            await wake_lead(graph, hot["lead_id"], Wake(event="closed_won"), tools)
    asyncio.run(later())
    assert close(stored(tools), recomputed(tools))
    metrics = snapshot(tools.crm, tools.reps, START)
    capture = next(a for a in metrics.processing.agents if a.agent == "LeadCapture Pro")
    assert capture.runs == 5  # four leads, one of them captured twice (S-4 merged into S-1)
    assert metrics.routing.to_rep == 2  # S-1 and, after the review, S-3


def test_a_crm_from_before_the_sums_fills_them_once(run_items: RunItems,
                                                    tools: Toolbox) -> None:
    run_items(ITEMS)
    before = snapshot(tools.crm, tools.reps, START)
    with tools.crm.transaction() as conn:
        for table in (LeadFacts, MetricTotal, MetricValue):
            conn.execute(delete(table))
    after = snapshot(tools.crm, tools.reps, START)
    # the same numbers (sums added in another order may differ in the last float digit)
    assert same(after.model_dump(), before.model_dump())
    assert close(stored(tools), recomputed(tools))
    assert same(snapshot(tools.crm, tools.reps, START).model_dump(), before.model_dump())


def test_percentiles_at_scale_come_from_values_that_occurred(
        run_items: RunItems, tools: Toolbox, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = run_items(ITEMS)
    exact = snapshot(tools.crm, tools.reps, START).processing.per_lead_ms
    monkeypatch.setattr(pipeline, "SAMPLE_TARGET", 2)  # a sample of about half the leads
    sampled = snapshot(tools.crm, tools.reps, START).processing.per_lead_ms
    assert (sampled.count, sampled.total, sampled.mean, sampled.max) == (
        exact.count, exact.total, exact.mean, exact.max)
    with tools.crm.engine.connect() as conn:
        occurred = set(conn.execute(select(MetricValue.value).where(
            MetricValue.name == "per_lead_ms")).scalars())
    assert sampled.p50 in occurred and sampled.p95 in occurred
    assert len(occurred) == exact.count == len({o["lead_id"] for o in outcomes})


def test_a_bulk_load_adds_its_leads_to_the_sums(run_items: RunItems, tools: Toolbox) -> None:
    run_items(ITEMS[:2])
    with tools.crm.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(Lead.__table__)).mappings()]
    copies: list[Any] = []
    for n, row in enumerate(rows):
        copy_id = f"LEAD-copy{n}"
        with tools.crm.engine.connect() as conn:
            found = settled_rows(conn, row["id"])
        assignment, sla = found.pop("assignment"), found["sla"]
        facts = lead_facts(row["outcome"], assignment, tools.icp.target_tech, **found)
        copies.append({"lead": {**row, "id": copy_id, "email_key": f"c{n}@x.example",
                                "contact_id": None, "account_id": None},
                       "assignment": {**{k: v for k, v in assignment.items() if k != "id"},
                                      "lead_id": copy_id} if assignment else None,
                       "sla": {**sla, "lead_id": copy_id} if sla else None,
                       "facts": facts})
    before = stored(tools)
    assert tools.crm.import_settled(copies) == len(rows)
    assert close(stored(tools), {k: 2 * v for k, v in before.items()})
    assert close(stored(tools), recomputed(tools))


def test_overdue_follows_the_clock_and_an_erasure_stops_it(
        run_items: RunItems, tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    """Overdue depends on when one asks (pending clocks minus those not yet due), without a
    settle in between; erasing the person closes the clock, so it stops counting as running
    or overdue while its tier, rep and clock count stay."""
    hot = run_items(ITEMS[:1])[0]
    rep = tools.crm.get_assignment(hot["lead_id"])["rep_id"]

    def sla_at(now: datetime) -> tuple[int, int, int, int]:
        metrics = snapshot(tools.crm, tools.reps, now)
        tier = next(t for t in metrics.sla.by_tier if t.tier == "hot")
        breaches = next(r.sla_breaches for r in metrics.reps if r.rep_id == rep)
        return tier.clocks, tier.breached_overdue, breaches, metrics.backlog.awaiting_followup

    assert sla_at(START) == (1, 0, 0, 1)
    later = START + timedelta(days=2)
    assert sla_at(later) == (1, 1, 1, 1)

    async def forget_priya() -> None:
        async with checkpoints() as saver:
            await forget(tools.crm, saver, "priya.nair@lumenhealth.com", requested_by="dpo",
                         now=later)
    asyncio.run(forget_priya())
    assert sla_at(later) == (1, 0, 0, 0)
    assert close(stored(tools), recomputed(tools))
