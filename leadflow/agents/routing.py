"""Routing (LeadRouting Coordinator): hot/warm leads to a rep, cold to nurture, unqualified
to marketing (SPEC §4.4). Lead-to-account matching first; then eligibility (region, segment,
active, not out of office, under capacity), industry specialty, lowest load ratio, least
recently assigned. No eligible rep → the region's sales manager. Every decision keeps an
audit trail of the reps considered and why each was excluded."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, ClassVar, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from leadflow.agents.base import StepOutput
from leadflow.agents.evidence import strip_injection
from leadflow.agents.llm_step import ask_llm, provenance
from leadflow.clock import parse_datetime
from leadflow.config import Rep
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.llm import RULES
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
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
    conflicts: list[str] = []  # business-rule conflicts met on the way (SPEC §6)


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


ACCOUNT_OWNER_REASON = "account already owned by"  # lead-to-account matching (SPEC §4.4)


def routed_segment(company: dict[str, Any], tools: Toolbox) -> str:
    """The segment a lead is routed as: its own, or `routing.unknown_segment_as` (smb) when
    its size is unknown. The assignment records this one: the segment its rep covers."""
    segment = company.get("segment") or "unknown"
    if segment == "unknown":
        return str(tools.icp.routing.get("unknown_segment_as", "smb"))
    return str(segment)


def choose_rep(
    lead: dict[str, Any], tools: Toolbox, now: datetime, account_owner: str | None
) -> RoutingDecision:
    company = lead["company"]
    region = company.get("region") or "unassigned"
    segment = routed_segment(company, tools)
    industry = company.get("industry")
    loads = tools.crm.rep_loads()
    day = now.date()
    owner_note = ""
    if account_owner:
        owner = tools.reps.get(account_owner)
        owner_load = loads.get(account_owner, (0, None))[0]
        if owner and tools.reps.available(owner, day) and owner_load < owner.capacity:
            return RoutingDecision(kind="rep", rep_id=owner.id, rule="account_owner",
                                   reason=f"{ACCOUNT_OWNER_REASON} {owner.name}")
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


class RoutingReview(BaseModel):
    """Review of a routing exception: assign one listed stretch candidate, or escalate."""

    action: Literal["assign", "escalate"]
    rep_id: str | None = None
    reason: str


TIERS = ("hot", "warm", "cold", "unqualified")
SOFT_EXCLUSIONS = ("segment ", "at capacity")  # rules an exception review may bend


class RoutingAgent:
    """Rules route every lead; when they find no eligible rep, the run's LLM (if any) reviews
    the exception and may pick a stretch candidate — never a rep in another region, inactive
    or out of office (SPEC §7: the LLM reviews exceptions)."""

    step: ClassVar[str] = "routing"

    def __init__(self, model: BaseChatModel | None = None) -> None:
        self.model = model

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        tier = (state.get("bant") or {}).get("tier", "unqualified")
        touch = state.get("touch")
        if touch and (before := state.get("assignment")):  # owned before this repeat
            # inquiry: it stays theirs, whatever its tier now (the CRM knows a reassignment)
            owned = (await asyncio.to_thread(tools.crm.get_assignment, state["lead_id"])
                     or before)
            return await asyncio.to_thread(self._new_touch, state, tools, owned, tier)
        if tier not in tools.icp.routing["assign_tiers"]:
            return await asyncio.to_thread(self._queue, state, tools, tier)
        meta = StepOutput("success")
        stored, decision = await asyncio.to_thread(self._stored_or_decide, state, tools)
        if stored is None:  # a replayed step keeps its first decision
            assert decision is not None
            if decision.kind == "manager" and (self.model is not None
                                               or run.model_for(self.step) != RULES):
                decision, meta = await self._review(decision, state, tools, run, tier)
            stored = await asyncio.to_thread(self._commit, state, tools, decision)
        if touch:  # risen from a queue to a rep: the queue's item is done
            await asyncio.to_thread(_leave_queues, tools, state["lead_id"], None,
                                    f"re-qualified {tier} by a repeat inquiry")
        return await asyncio.to_thread(self._announce, state, tools, stored, tier, meta)

    def _new_touch(self, state: LeadState, tools: Toolbox, owned: dict[str, Any],
                   tier: str) -> StepOutput:
        """Tell the owner their lead wrote again; the lead stays theirs, in the same status
        (still waiting for engagement when its follow-up clock runs)."""
        lead_id, lead, touch = state["lead_id"], state["lead"], state.get("touch") or {}
        person = tools.reps.person(owned["rep_id"])
        before = _tier_before(state)
        tools.notifier.send(
            Notice(audience="rep" if owned["kind"] == "rep" else "sales_manager",
                   recipient=person.email if person else None,
                   subject=(f"Your lead wrote again: {lead['company'].get('name') or lead_id}"
                            f" ({before} → {tier})" if before and before != tier
                            else f"Your lead wrote again: "
                                 f"{lead['company'].get('name') or lead_id} ({tier})"),
                   body=f"{_describe(lead)}\nTheir messages, oldest first:\n"
                        f"{(lead.get('inquiry') or '')[-2000:]}"),
            lead_id=lead_id, step=f"routing:touch:{touch.get('fingerprint')}",
            now=tools.clock.now())
        sla = tools.crm.sla_for(lead_id)
        following_up = sla is not None and sla["state"] != "closed"
        return StepOutput("success", {
            "status": state.get("status") or "routed",
            "status_reason": f"repeat inquiry: owner {owned['rep_id']} notified ({tier})"},
            decision="following_up" if following_up else "owned",
            notes=f"repeat inquiry: owner {owned['rep_id']} notified; tier {tier}")

    def _queue(self, state: LeadState, tools: Toolbox, tier: str) -> StepOutput:
        lead_id, lead, now = state["lead_id"], state["lead"], tools.clock.now()
        queue = tools.icp.routing["queues"].get(tier) or "marketing"
        if state.get("touch"):  # re-qualified by a repeat inquiry: one queue at a time
            _leave_queues(tools, lead_id, queue, f"re-qualified {tier} by a repeat inquiry")
        tools.crm.enqueue(queue, lead_id, f"{tier} lead", now)
        tools.notifier.send(Notice(audience=queue, subject=f"{tier} lead → {queue} queue",
                                   body=_describe(lead)), lead_id=lead_id, step="routing",
                            now=now)
        status = "nurture" if queue == "nurture" else "marketing"
        return StepOutput("success", {"status": status, "status_reason": f"{tier} lead",
                                      "assignment": None},
                          decision=queue, notes=f"{tier} → {queue} queue")

    def _stored_or_decide(self, state: LeadState, tools: Toolbox,
                          ) -> tuple[dict[str, Any] | None, RoutingDecision | None]:
        """The assignment a replayed step already made, else a fresh decision."""
        stored = tools.crm.get_assignment(state["lead_id"])
        return (stored, None) if stored is not None else (None, self._decide(state, tools))

    def _decide(self, state: LeadState, tools: Toolbox) -> RoutingDecision:
        lead, account = state["lead"], state.get("account") or {}
        named = tools.reps.named_owner(lead["company"].get("domain"))
        crm_owner = account.get("owner") or (
            tools.crm.account_owner(account["id"]) if account.get("id") else None)
        # Safest default on an ownership clash: the contractual named-account owner.
        decision = choose_rep(lead, tools, tools.clock.now(), named or crm_owner)
        conflicts = business_rule_conflicts(state, tools, named, crm_owner)
        return decision.model_copy(update={"conflicts": conflicts}) if conflicts else decision

    async def _review(self, decision: RoutingDecision, state: LeadState, tools: Toolbox,
                      run: LeadflowContext, tier: str) -> tuple[RoutingDecision, StepOutput]:
        meta = StepOutput("success")
        stretch = [c for c in decision.candidates
                   if c.excluded_by and c.excluded_by.startswith(SOFT_EXCLUSIONS)]
        if not stretch:
            return decision, meta  # nothing an exception review could choose
        lead = state["lead"]
        manager = tools.reps.manager_for(lead["company"].get("region"))
        answer = await ask_llm(self.step, run, RoutingReview, {
            "tier": tier,
            "company": json.dumps({k: lead["company"].get(k) for k in (
                "name", "industry", "region", "segment", "employees")}, default=str),
            "candidates": "; ".join(
                f"{c.rep_id} ({rep.name if (rep := tools.reps.get(c.rep_id)) else '?'}, "
                f"{c.excluded_by}, {c.open_leads}/{c.capacity})" for c in stretch),
            "manager": f"{manager.id} ({manager.name})",
            "lead_text": strip_injection(lead.get("inquiry") or "", tools.icp)[0][:3000],
        }, self.model)
        meta = StepOutput("success", flags=list(answer.flags), notes=answer.note,
                          **provenance(answer))
        review = answer.parsed
        if review is None:
            return decision, meta
        meta.decided_by = "llm"
        if review.action == "assign" and review.rep_id in {c.rep_id for c in stretch}:
            return RoutingDecision(
                kind="rep", rep_id=review.rep_id, rule="llm_exception_review",
                reason=f"exception review: {review.reason}"[:500],
                candidates=decision.candidates), meta
        if review.action == "assign":  # not a stretch candidate: the rules' escalation stands
            meta.flags.append("llm_choice_rejected")
        return decision, meta

    def _commit(self, state: LeadState, tools: Toolbox,
                decision: RoutingDecision) -> dict[str, Any]:
        lead, now = state["lead"], tools.clock.now()
        ingested = parse_datetime(state.get("ingested_at")) or now
        return tools.crm.assign(
            lead_id=state["lead_id"], rep_id=decision.rep_id or "", kind=decision.kind,
            region=lead["company"].get("region"), segment=routed_segment(lead["company"], tools),
            reason=decision.reason,
            audit={"rule": decision.rule, "conflicts": decision.conflicts,
                   "candidates": [c.model_dump() for c in decision.candidates]},
            now=now, speed_to_lead_seconds=round((now - ingested).total_seconds(), 3),
            account_id=(state.get("account") or {}).get("id"),
        )

    def _announce(self, state: LeadState, tools: Toolbox, stored: dict[str, Any], tier: str,
                  meta: StepOutput) -> StepOutput:
        lead_id, lead = state["lead_id"], state["lead"]
        conflicts = (stored.get("audit") or {}).get("conflicts") or []
        if conflicts:  # from the stored audit, so a replay reports the same, once
            text = "; ".join(conflicts)
            tools.crm.enqueue("rules_review", lead_id, text, tools.clock.now(),
                              {"assigned_to": stored["rep_id"]})
            tools.notifier.send(Notice(
                audience="sales_operations", subject=f"Business-rule conflict on {lead_id}",
                body=f"{text}\nSafest default taken: {stored['reason']}"),
                lead_id=lead_id, step="routing:conflict", now=tools.clock.now())
            meta.flags = [*meta.flags, "business_rule_conflict"]
        person = tools.reps.person(stored["rep_id"])
        tools.notifier.send(
            Notice(audience="rep" if stored["kind"] == "rep" else "sales_manager",
                   recipient=person.email if person else None,
                   subject=f"New {tier} lead: {lead['company'].get('name') or lead_id}",
                   body=f"{_describe(lead)}\nWhy you: {stored['reason']}"),
            lead_id=lead_id, step="routing", now=tools.clock.now(),
        )
        assignment = {k: stored[k] for k in ("rep_id", "region", "segment", "reason", "kind",
                                             "assigned_at", "speed_to_lead_seconds")}
        # the reps considered stay in the CRM's audit (explain reads them there): the state
        # keeps the rule and the conflicts, not a copy of every candidate
        assignment["audit"] = {k: v for k, v in (stored.get("audit") or {}).items()
                               if k != "candidates"}
        decided = meta.decision_fields()
        notes = stored["reason"] + (f"; {meta.notes}" if meta.notes else "")
        if stored["kind"] == "manager":
            return StepOutput("success", {"assignment": assignment, "status": "escalated",
                                          "status_reason": stored["reason"]},
                              decision="manager", notes=notes,
                              flags=["no_eligible_rep", *meta.flags], **decided)
        return StepOutput("success", {"assignment": assignment, "status": "routed",
                                      "status_reason": stored["reason"]},
                          decision="rep", notes=f"assigned to {stored['rep_id']}: {notes}",
                          flags=meta.flags, **decided)


def business_rule_conflicts(state: LeadState, tools: Toolbox, named: str | None,
                            crm_owner: str | None) -> list[str]:
    """Rules that disagree about this lead (SPEC §6 'business rule conflict')."""
    company = state["lead"]["company"]
    conflicts = []
    if named and crm_owner and named != crm_owner:
        conflicts.append(f"named-account owner {named} (reps.yaml) and CRM account owner "
                         f"{crm_owner} disagree")
    owner = tools.reps.get(named or crm_owner or "")
    if owner and company.get("region") not in (None, "unassigned", owner.region):
        conflicts.append(f"territory says {company.get('region')}, account owner {owner.id} "
                         f"covers {owner.region}")
    if "conflicting_size_data" in (state.get("flags") or []):
        conflicts.append("stated company size contradicts the knowledge base; routed on "
                         f"segment {company.get('segment')}")
    return conflicts


def _leave_queues(tools: Toolbox, lead_id: str, keep: str | None, note: str) -> None:
    """Close the lead's open items in the tier queues other than `keep`."""
    for queue in set(tools.icp.routing["queues"].values()) - {keep}:
        tools.crm.resolve(queue, lead_id, tools.clock.now(), note)


def _tier_before(state: LeadState) -> str | None:
    """The tier of the lead's previous qualification (before this repeat pass), if any."""
    tiers = [s.get("decision") for s in state.get("steps") or []
             if s.get("outcome") == "success" and s.get("decision") in TIERS]
    return tiers[-2] if len(tiers) >= 2 else None


def _describe(lead: dict[str, Any]) -> str:
    contact, company = lead["contact"], lead["company"]
    who = " ".join(filter(None, (contact.get("first_name"), contact.get("last_name"))))
    return (f"{who or contact.get('email') or 'unknown contact'}"
            f" ({contact.get('title') or 'no title'}) at {company.get('name') or '?'}"
            f" — {contact.get('email') or contact.get('phone') or 'no contact'}")
