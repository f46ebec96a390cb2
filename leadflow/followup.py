"""The long tail of an assigned lead (SPEC §4.5): its thread waits at `await_engagement`
(an interrupt) and wakes on an engagement event or a sweep. All time comes from the
toolbox's clock, so tests move time without sleeping.

A wake is the resume value: {"event": "contacted|replied|meeting_booked|closed_won|
closed_lost|reassigned", "at": ISO, "rep_id": …} or {"sweep": true, "at": ISO}.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

from leadflow.agents.routing import choose_rep
from leadflow.checkpoint import compact_thread
from leadflow.clock import parse_datetime
from leadflow.context import LeadflowContext
from leadflow.events import ENGAGEMENT_LEVEL, TOUCHES, EventType
from leadflow.identity import thread_config
from leadflow.outcome import outcome_record
from leadflow.scoring.policy import priority_note
from leadflow.toolbox import Toolbox
from leadflow.tools.crm.leases import held_lead
from leadflow.tools.notifier import Notice


class Wake(BaseModel):
    event: EventType | None = None
    sweep: bool = False
    at: str | None = None
    rep_id: str | None = None  # for `reassigned`


def pending_wait(snapshot: Any) -> dict[str, Any] | None:
    for interrupt in getattr(snapshot, "interrupts", ()) or ():
        value = getattr(interrupt, "value", None)
        if isinstance(value, dict) and value.get("waiting_for") == "engagement":
            return value
    return None


def _restart_clock(tools: Toolbox, lead_id: str, tier: str, at: datetime,
                   rep_id: str) -> None:
    sla = tools.icp.sla
    due = at + timedelta(hours=float(sla["first_touch_hours"].get(tier, 24)))
    tools.crm.update_sla(
        lead_id, rep_id=rep_id, started_at=at, due_at=due,
        remind_at=due - timedelta(minutes=float(sla["reminder_before_minutes"].get(tier, 0))),
        escalate_at=at + timedelta(hours=float(sla["escalate_after_hours"])),
        reminded_at=None, escalated_at=None, state="open")


def handle_wake(state: dict[str, Any], tools: Toolbox, raw: Any) -> tuple[dict[str, Any], bool]:
    """Apply one wake to the CRM; returns (state update, whether the lead is finished)."""
    wake = Wake.model_validate(raw)
    lead_id = state["lead_id"]
    at = parse_datetime(wake.at) or tools.clock.now()
    tier = (state.get("bant") or {}).get("tier") or "warm"
    sla = tools.crm.sla_for(lead_id)
    company = (state.get("lead") or {}).get("company") or {}
    engagement = dict(state.get("engagement") or {"level": 0, "events": []})
    update: dict[str, Any] = {}

    if wake.event:
        tools.crm.record_event(lead_id, wake.event, at, {"rep_id": wake.rep_id})
        if wake.event in ENGAGEMENT_LEVEL:  # credit the first email the judge chose (A/B)
            tools.crm.credit_outreach(lead_id, wake.event, ENGAGEMENT_LEVEL)
        engagement["events"] = [*engagement["events"], {"event": wake.event, "at": at.isoformat()}]
        engagement["level"] = max(engagement["level"], ENGAGEMENT_LEVEL.get(wake.event, 0))
        update["engagement"] = engagement
    if wake.event in TOUCHES and sla and not sla["first_touch_at"]:
        tools.crm.update_sla(lead_id, first_touch_at=at, state="touched")
        update.update(status="awaiting_followup", status_reason=f"{wake.event} at {at.isoformat()}")
    elif wake.event == "reassigned":
        rep = tools.reps.get(wake.rep_id or "")
        if rep is None:  # never raise here: a failed resume would be replayed on every wake
            return {"status_reason": f"ignored reassignment to unknown rep {wake.rep_id!r}",
                    "flags": ["invalid_event"]}, False
        tools.crm.reassign(lead_id, rep.id, at, f"reassigned to {rep.name}")
        _restart_clock(tools, lead_id, tier, at, rep.id)
        tools.notifier.send(Notice(audience="rep", recipient=rep.email,
                                   subject=f"Lead reassigned to you: {company.get('name')}",
                                   body=f"{lead_id} is yours now."),
                            lead_id=lead_id, step=f"followup:reassign:{rep.id}", now=at)
        update.update(status="awaiting_followup", status_reason=f"reassigned to {rep.id}",
                      assignment={**(state.get("assignment") or {}), "rep_id": rep.id,
                                  "reason": f"reassigned to {rep.name}"})
    elif wake.event in ("closed_won", "closed_lost"):
        tools.crm.close_assignment(lead_id)
        tools.crm.update_sla(lead_id, state="closed")
        update.update(status="routed", status_reason=wake.event.replace("_", " "),
                      flags=[wake.event])
        return update, True
    elif wake.sweep and sla and sla["state"] == "open":
        update.update(_sweep_one(state, tools, sla, at, tier))
    return update, False


def _sweep_one(state: dict[str, Any], tools: Toolbox, sla: dict[str, Any], at: datetime,
               tier: str) -> dict[str, Any]:
    """Due timers of one untouched lead: out of office → reassign; 24 h → manager;
    before the deadline → remind the rep."""
    lead_id = state["lead_id"]
    lead = state.get("lead") or {}
    rep = tools.reps.get(sla["rep_id"])
    if rep is not None and not tools.reps.available(rep, at.date()):
        decision = choose_rep(lead, tools, at, None)
        if decision.kind == "rep" and decision.rep_id and decision.rep_id != rep.id:
            return handle_wake(state, tools, {"event": "reassigned", "rep_id": decision.rep_id,
                                              "at": at.isoformat()})[0]
    if at >= sla["escalate_at"] and not sla["escalated_at"]:
        manager = tools.reps.manager_for((lead.get("company") or {}).get("region"))
        tools.notifier.send(Notice(
            audience="sales_manager", recipient=manager.email,
            subject=f"No response in 24 h: {lead_id}{priority_note(state.get('conversion'))}",
            body=f"{sla['rep_id']} has not touched this {tier} lead since "
                 f"{sla['started_at'].isoformat()}. Reassign it?"),
            lead_id=lead_id, step=f"followup:escalation:{sla['started_at'].isoformat()}",
            now=at)
        tools.crm.update_sla(lead_id, escalated_at=at)
        return {"status": "escalated",
                "status_reason": f"no response in 24 h: escalated to {manager.name}"}
    if at >= sla["remind_at"] and not sla["reminded_at"]:
        tools.notifier.send(Notice(
            audience="rep", recipient=rep.email if rep else None,
            subject=(f"Reminder: first touch due {sla['due_at'].isoformat()} ({lead_id})"
                     f"{priority_note(state.get('conversion'))}"),
            body="This lead has not been contacted yet."),
            lead_id=lead_id, step=f"followup:reminder:{sla['started_at'].isoformat()}", now=at)
        tools.crm.update_sla(lead_id, reminded_at=at)
    return {}


async def wake_lead(graph: CompiledStateGraph[Any, Any, Any, Any], lead_id: str,
                    wake: Wake, tools: Toolbox | None = None,
                    context: LeadflowContext | None = None) -> dict[str, Any]:
    """Resume a waiting lead with an event or a sweep (in the run context it was started
    with); returns its outcome afterwards. With `tools`, a reassignment to an unknown rep is
    refused before resuming."""
    if wake.event == "reassigned" and tools is not None and tools.reps.get(
            wake.rep_id or "") is None:
        raise ValueError(f"reassigned needs a known rep id (--rep), got {wake.rep_id!r}")
    config: RunnableConfig = thread_config(lead_id)
    async with held_lead(tools.crm, lead_id) if tools else contextlib.nullcontext():
        if pending_wait(await graph.aget_state(config)) is None:
            raise ValueError(f"{lead_id} is not waiting for follow-up")
        await graph.ainvoke(Command(resume=wake.model_dump()), config, context=context)
        await compact_thread(graph.checkpointer, lead_id)
        return outcome_record(dict((await graph.aget_state(config)).values))


async def sweep(graph: CompiledStateGraph[Any, Any, Any, Any], tools: Toolbox,
                at: datetime | None = None,
                context: LeadflowContext | None = None) -> list[dict[str, Any]]:
    """Wake every lead whose follow-up clock still runs (`leadflow followup sweep`)."""
    moment = (at or tools.clock.now()).isoformat()
    outcomes = []
    for lead_id in await asyncio.to_thread(tools.crm.waiting_sla_leads):
        try:
            outcomes.append(await wake_lead(graph, lead_id, Wake(sweep=True, at=moment),
                                            tools, context))
        except ValueError:
            continue  # its thread is not waiting (e.g. closed meanwhile)
    return outcomes
