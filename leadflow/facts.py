"""What one settled lead adds to the dashboard (SPEC §9): its steps' results and times, the
LLM fallbacks it met, what enrichment filled, how and to whom it was routed, its follow-up
clock and the engagement events it reached. Computed when the lead settles (`persist_outcome`,
again after every follow-up wake) and kept with it in the CRM (`metric_totals`,
`metric_values`, `lead_facts`), so the dashboard reads running sums and a sample of values at
any number of leads instead of every outcome record.

`totals` are (name, key, amount) added to the running sums; `values` are (name, key, value)
measurements whose percentiles and maximum the dashboard reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from typing_extensions import TypedDict

from leadflow.agents.enrichment import QUALITY_KEYS, score_quality
from leadflow.events import FUNNEL
from leadflow.graph.messages import AGENT_NAMES
from leadflow.tools.crm.summaries import RUNNING_CLOCK

AGENTS = tuple(name for key, name in AGENT_NAMES.items() if key != "supervisor")
# Fields enrichment tries to fill; completeness is the share of them a lead ends up with.
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title")
COMPANY_FIELDS = ("domain", "industry", "employees", "revenue_usd", "country", "tech_stack",
                  "funding")
FIELDS = (*(f"contact.{f}" for f in CONTACT_FIELDS), *(f"company.{f}" for f in COMPANY_FIELDS))
# Flags that mean the LLM level failed and the rules decided (SPEC §6 API/LLM failure).
LLM_FAILURE_FLAGS = ("llm_error", "llm_invalid_output", "circuit_open")

Triple = tuple[str, str, float]


class Contribution(TypedDict):
    totals: list[Triple]
    values: list[Triple]


def lead_facts(outcome: Mapping[str, Any], assignment: Mapping[str, Any] | None,
               target_tech: tuple[str, ...], *, sla: Mapping[str, Any] | None = None,
               events: Iterable[str] = (), arrived: datetime | None = None) -> Contribution:
    """The lead's contribution, from its outcome record and the CRM rows that settle with
    it: its assignment, its follow-up clock, the types of its engagement events and its
    arrival time (for the wait until first touch)."""
    totals: dict[tuple[str, str], float] = {}
    values: list[Triple] = []

    def add(name: str, key: str = "", amount: float = 1.0) -> None:
        totals[(name, key)] = totals.get((name, key), 0.0) + amount

    bant = outcome.get("bant") or {}
    if bant.get("tier"):
        add("tier", str(bant["tier"]))
        if isinstance(bant.get("total"), int | float):
            add("tier_bant_n", str(bant["tier"]))
            add("tier_bant_sum", str(bant["tier"]), float(bant["total"]))
    flags = set(outcome.get("flags") or [])
    for flag in LLM_FAILURE_FLAGS:
        if flag in flags:
            add("llm_fallback", flag)
    timed: list[float] = []
    ran = errored = enriched = False
    for step in outcome.get("decisions") or []:
        agent = step.get("agent") or AGENT_NAMES.get(step.get("step") or "")
        result = step.get("outcome")
        if agent not in AGENTS or result not in ("success", "failure", "duplicate"):
            continue  # a person's decision, or a record written before steps had results
        ran = True
        add("runs", agent)
        if result == "failure":
            errored = True
            add("failed", agent)
            add("errors", f"{agent}/{step.get('error_type') or 'unknown'}")
        else:
            add("ok", agent)
            enriched = enriched or agent == AGENT_NAMES["enrichment"]
        duration = step.get("duration_ms")
        if isinstance(duration, int | float):
            add("duration_n", agent)
            add("duration_sum", agent, float(duration))
            values.append(("duration_ms", agent, float(duration)))
            timed.append(float(duration))
    if ran:
        add("leads_with_steps")
    if errored:
        add("leads_with_errors")
    if timed:
        per_lead = round(math.fsum(timed), 3)
        add("per_lead_n")
        add("per_lead_sum", "", per_lead)
        values.append(("per_lead_ms", "", per_lead))
    if enriched:
        _enrichment(outcome, flags, target_tech, add)
    if assignment:
        add("assigned", str(assignment.get("kind") or "unknown"))
        if assignment.get("kind") == "rep" and assignment.get("rep_id"):
            add("rep_assigned", str(assignment["rep_id"]))
        add("route_rule", str((assignment.get("audit") or {}).get("rule") or "unknown"))
        speed = assignment.get("speed_to_lead_seconds")
        if assignment.get("kind") == "rep" and isinstance(speed, int | float):
            add("speed_n")
            add("speed_sum", "", float(speed))
            values.append(("speed_to_lead_s", "", float(speed)))
    if sla:
        _follow_up(sla, arrived, add, values)
    reached = set(events)
    for kind in sorted(reached):
        add("event", kind)
    for stage, _, kinds in FUNNEL:
        if reached & set(kinds):
            add("funnel", stage)
    return Contribution(totals=[(n, k, v) for (n, k), v in sorted(totals.items())], values=values)


SLA_RUNNING, SLA_PENDING, SLA_PENDING_REP = RUNNING_CLOCK


def _follow_up(sla: Mapping[str, Any], arrived: datetime | None, add: Any,
               values: list[Triple]) -> None:
    """The clock as it stands at settle time. Whether an untouched clock is overdue depends
    on when one asks: the dashboard counts the pending ones not yet due and subtracts."""
    tier, rep = str(sla.get("tier") or "unknown"), str(sla.get("rep_id") or "unknown")
    touched, due = sla.get("first_touch_at"), sla.get("due_at")
    add("sla_clocks", tier)
    if sla.get("escalated_at") is not None:
        add("sla_escalated", tier)
    if touched is not None and due is not None and touched > due:
        add("sla_late", tier)
        add("sla_late_rep", rep)
    if sla.get("state") != "closed":
        add(SLA_RUNNING)
        if touched is None:
            add(SLA_PENDING, tier)
            add(SLA_PENDING_REP, rep)
    if touched is not None and arrived is not None:
        wait = round((touched - arrived).total_seconds(), 3)
        for key in ("", tier):
            add("first_touch_n", key)
            add("first_touch_sum", key, wait)
            values.append(("first_touch_s", key, wait))


def _enrichment(outcome: Mapping[str, Any], flags: set[str], target_tech: tuple[str, ...],
                add: Any) -> None:
    contact = outcome.get("contact") or {}
    company = outcome.get("company") or {}
    add("enriched")
    add("kb_matched", "", float("unknown_company" not in flags))
    add("limited", "", float("limited_data" in flags))
    have = [f"contact.{f}" for f in CONTACT_FIELDS if contact.get(f)]
    have += [f"company.{f}" for f in COMPANY_FIELDS if company.get(f) not in (None, "",
                                                                              "other", [])]
    for field in have:
        add("filled", field)
    add("completeness_sum", "", len(have) / len(FIELDS))
    quality = score_quality({"contact": contact, "company": company}, target_tech)
    for key in QUALITY_KEYS:
        add("quality_sum", key, float(getattr(quality, key)))
