"""Routing (LeadRouting Coordinator): hot/warm leads to a rep, cold to nurture, unqualified
to marketing (SPEC §4.4). Lead-to-account matching first; then eligibility (region, segment,
active, not out of office, under capacity), industry specialty, lowest load ratio, least
recently assigned. No eligible rep → the region's sales manager. Every decision keeps an
audit trail of the reps considered and why each was excluded."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from leadflow.agents.base import DEFAULT_RUN, RunConfig, StepOutput
from leadflow.config import Rep
from leadflow.graph.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import parse_datetime
from leadflow.tools.notifier import Notice


class RepCandidate(BaseModel):
    rep_id: str
    excluded_by: str | None = None  # the rule that excluded the rep, None when eligible
    specialty_match: bool = False
    open_leads: int = 0
    capacity: int = 0
    load_ratio: float = 0.0
    last_assigned_at: str | None = None


class RoutingDecision(BaseModel):
    """Where the lead goes and why (also the LLM exception-review schema later)."""

    kind: str  # rep | manager | nurture | marketing
    rep_id: str | None = None
    queue: str | None = None
    rule: str
    reason: str
    candidates: list[RepCandidate] = []


def _exclusion(rep: Rep, region: str, segment: str, day: Any, load: int) -> str | None:
    if rep.region != region:
        return f"region {rep.region} != {region}"
    if segment not in rep.segments:
        return f"segment {segment} not covered"
    if not rep.active:
        return "inactive"
    if rep.out_of_office and rep.out_of_office.covers(day):
        return f"out of office until {rep.out_of_office.until.isoformat()}"
    if load >= rep.capacity:
        return f"at capacity ({load}/{rep.capacity})"
    return None


def choose_rep(
    lead: dict[str, Any], tools: Toolbox, now: datetime, account_owner: str | None
) -> RoutingDecision:
    company = lead["company"]
    region = company.get("region") or "unassigned"
    segment = company.get("segment") or "unknown"
    if segment == "unknown":
        segment = tools.icp.routing.get("unknown_segment_as", "smb")
    industry = company.get("industry")
    loads = tools.crm.rep_loads()
    day = now.date()
    owner_note = ""
    if account_owner:
        owner = tools.reps.get(account_owner)
        owner_load = loads.get(account_owner, (0, None))[0]
        if owner and tools.reps.available(owner, day) and owner_load < owner.capacity:
            return RoutingDecision(kind="rep", rep_id=owner.id, rule="account_owner",
                                   reason=f"account already owned by {owner.name}")
        owner_note = f"; account owner {account_owner} unavailable"
    candidates = []
    for rep in tools.reps.reps:
        open_leads, last = loads.get(rep.id, (0, None))
        candidates.append(RepCandidate(
            rep_id=rep.id,
            excluded_by=_exclusion(rep, region, segment, day, open_leads),
            specialty_match=bool(industry and industry in rep.industries),
            open_leads=open_leads, capacity=rep.capacity,
            load_ratio=round(open_leads / rep.capacity, 4),
            last_assigned_at=last.isoformat() if last else None,
        ))
    eligible = [c for c in candidates if c.excluded_by is None]
    specialists = [c for c in eligible if c.specialty_match]
    pool = specialists or eligible
    if not pool:
        manager = tools.reps.manager_for(region)
        return RoutingDecision(kind="manager", rep_id=manager.id, rule="no_eligible_rep",
                               reason=f"no eligible rep in {region}/{segment}{owner_note}: "
                                      f"escalated to {manager.name}",
                               candidates=candidates)
    best = min(pool, key=lambda c: (c.load_ratio, c.last_assigned_at or "", c.rep_id))
    rule = "specialty_then_load" if specialists else "lowest_load"
    chosen = tools.reps.get(best.rep_id)
    assert chosen is not None
    return RoutingDecision(
        kind="rep", rep_id=chosen.id, rule=rule,
        reason=(f"{chosen.name}: {region}/{segment}"
                + (f", {industry} specialist" if best.specialty_match else "")
                + f", load {best.open_leads}/{best.capacity}{owner_note}"),
        candidates=candidates,
    )


class RoutingAgent:
    step: ClassVar[str] = "routing"

    async def run(self, state: LeadState, tools: Toolbox,
                  run: RunConfig = DEFAULT_RUN) -> StepOutput:
        return await asyncio.to_thread(self._route, state, tools)

    def _route(self, state: LeadState, tools: Toolbox) -> StepOutput:
        lead_id = state["lead_id"]
        lead = state["lead"]
        tier = (state.get("bant") or {}).get("tier", "unqualified")
        now = tools.clock.now()
        queue = tools.icp.routing["queues"].get(tier)
        if tier not in tools.icp.routing["assign_tiers"]:
            queue = queue or "marketing"
            tools.crm.enqueue(queue, lead_id, f"{tier} lead", now)
            tools.notifier.send(Notice(audience=queue, subject=f"{tier} lead → {queue} queue",
                                       body=_describe(lead)), lead_id=lead_id, step="routing",
                                now=now)
            status = "nurture" if queue == "nurture" else "marketing"
            return StepOutput("success", {"status": status, "status_reason": f"{tier} lead",
                                          "assignment": None},
                              decision=queue, notes=f"{tier} → {queue} queue")
        stored = tools.crm.get_assignment(lead_id)  # a replayed step keeps its first decision
        if stored is None:
            account = state.get("account") or {}
            owner = (tools.reps.named_owner(lead["company"].get("domain"))
                     or account.get("owner")
                     or (tools.crm.account_owner(account["id"]) if account.get("id") else None))
            decision = choose_rep(lead, tools, now, owner)
            ingested = parse_datetime(state.get("ingested_at")) or now
            stored = tools.crm.assign(
                lead_id=lead_id, rep_id=decision.rep_id or "", kind=decision.kind,
                region=lead["company"].get("region"), segment=lead["company"].get("segment"),
                reason=decision.reason,
                audit={"rule": decision.rule,
                       "candidates": [c.model_dump() for c in decision.candidates]},
                now=now, speed_to_lead_seconds=round((now - ingested).total_seconds(), 3),
                account_id=account.get("id"),
            )
        person = tools.reps.person(stored["rep_id"])
        tools.notifier.send(
            Notice(audience="rep" if stored["kind"] == "rep" else "sales_manager",
                   recipient=person.email if person else None,
                   subject=f"New {tier} lead: {lead['company'].get('name') or lead_id}",
                   body=f"{_describe(lead)}\nWhy you: {stored['reason']}"),
            lead_id=lead_id, step="routing", now=now,
        )
        assignment = {"rep_id": stored["rep_id"], "region": stored["region"],
                      "segment": stored["segment"], "reason": stored["reason"],
                      "kind": stored["kind"], "assigned_at": stored["assigned_at"],
                      "speed_to_lead_seconds": stored["speed_to_lead_seconds"],
                      "audit": stored["audit"]}
        if stored["kind"] == "manager":
            return StepOutput("success", {"assignment": assignment, "status": "escalated",
                                          "status_reason": stored["reason"]},
                              decision="manager", notes=stored["reason"],
                              flags=["no_eligible_rep"])
        return StepOutput("success", {"assignment": assignment, "status": "routed",
                                      "status_reason": stored["reason"]},
                          decision="rep", notes=f"assigned to {stored['rep_id']}: "
                                                f"{stored['reason']}")


def _describe(lead: dict[str, Any]) -> str:
    contact, company = lead["contact"], lead["company"]
    who = " ".join(filter(None, (contact.get("first_name"), contact.get("last_name"))))
    return (f"{who or contact.get('email') or 'unknown contact'}"
            f" ({contact.get('title') or 'no title'}) at {company.get('name') or '?'}"
            f" — {contact.get('email') or contact.get('phone') or 'no contact'}")
