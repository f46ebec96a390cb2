"""Disposition actions: where the supervisor sends a lead that leaves the agent chain (a
queue, a manager, marketing, a person's review, the wait for engagement), and how a
reviewer's decision is carried out afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from leadflow.context import LeadflowContext
from leadflow.followup import handle_wake
from leadflow.graph.messages import AGENT_NAMES, SUPERVISOR, lead_reference, make_message
from leadflow.graph.nodes import SUPERVISOR_NODE, ToolResolver
from leadflow.graph.workflow import Action, Workflow
from leadflow.outcome import persist_outcome, stored_outcome
from leadflow.review import ReviewDecision, ReviewRequest, question_for
from leadflow.state import LeadState, last_step, merge_flags
from leadflow.toolbox import Toolbox
from leadflow.tools.ingest import item_excerpt
from leadflow.tools.notifier import Notice


def dispose(action: Action, state: LeadState, tools: Toolbox) -> dict[str, Any]:
    """What a disposition writes (queue item, manager assignment, notice, the settled
    outcome) and the state update it makes; idempotent, so a resumed node re-runs it. A
    `review` action pauses after it; benchmarks/throughput.py's "direct" variant calls it
    outside a graph."""
    now = tools.clock.now()
    lead_id = state.get("lead_id") or state["workflow_id"]
    result = last_step(state) or {}
    last = result.get("step", "")
    reason = action.reason_for(result)
    update: dict[str, Any] = {"status": action.status, "status_reason": reason}
    if action.set_tier:
        update["bant"] = {**(state.get("bant") or {}), "tier": action.set_tier}
    if action.queue:
        tools.crm.enqueue(action.queue, lead_id, reason, now, {"step": last})
    recipient = None
    if action.assign_to == "region_manager":
        company = (state.get("lead") or {}).get("company") or {}
        manager = tools.reps.manager_for(company.get("region"))
        recipient = manager.email
        stored = tools.crm.assign(
            lead_id=lead_id, rep_id=manager.id, kind="manager",
            region=company.get("region"), segment=company.get("segment"),
            reason=f"escalated to {manager.name}: {reason}",
            audit={"rule": action.name, "failed_step": last}, now=now,
            speed_to_lead_seconds=None, account_id=(state.get("account") or {}).get("id"),
        )
        update["assignment"] = {k: stored[k] for k in ("rep_id", "region", "segment",
                                                       "reason", "kind")}
    if action.notify:
        tools.notifier.send(
            Notice(audience=action.notify, recipient=recipient,
                   subject=f"[{action.status}] {lead_id}: {reason[:120]}", body=reason),
            lead_id=lead_id, step=action.name, now=now,
        )
    update["outcome"] = stored_outcome(persist_outcome(tools, {**state, **update}))
    return update


def make_action_node(action: Action, tools_for: ToolResolver,
                     workflow: Workflow) -> Callable[..., Any]:
    """A supervisor disposition: queue, assign to a manager, notify, settle the status; a
    `review` action then pauses for a person and carries out their decision."""

    async def wait_for_engagement(state: LeadState,
                                  runtime: Runtime[LeadflowContext]) -> Command[Any]:
        tools = await tools_for(runtime)
        await asyncio.to_thread(persist_outcome, tools, dict(state))  # idempotent
        wake = interrupt({"waiting_for": "engagement", "lead_id": state.get("lead_id"),
                          "sla": state.get("sla")})
        if isinstance(wake, dict) and wake.get("touch"):  # the lead wrote again (repeat.py):
            return Command(goto=SUPERVISOR_NODE, update={"touch": wake["touch"]})  # re-qualify
        update, finished = await asyncio.to_thread(handle_wake, dict(state), tools, wake)
        if not finished:
            return Command(goto=action.name, update=update)  # wait again
        final = {**state, **update,
                 "flags": merge_flags(state.get("flags"), update.get("flags"))}
        update["outcome"] = stored_outcome(
            await asyncio.to_thread(persist_outcome, tools, final))
        return Command(goto=END, update=update)

    if action.wait == "engagement":
        wait_for_engagement.__name__ = action.name
        return wait_for_engagement

    async def settle_lead(state: LeadState, runtime: Runtime[LeadflowContext]) -> Command[Any]:
        tools = await tools_for(runtime)
        # idempotent: re-run on resume
        update = await asyncio.to_thread(dispose, action, state, tools)
        if not action.review:
            return Command(goto=END, update=update)
        failed = last_step(state) or {}
        kind = failed.get("review") or f"{failed.get('step', 'workflow')}_failed"
        request = ReviewRequest(
            lead_id=state.get("lead_id") or state["workflow_id"],
            kind=kind,
            question=question_for(kind),
            reason=update["status_reason"],
            evidence={"failed_step": failed.get("step"), "error": failed.get("error"),
                      "flags": state.get("flags") or [],
                      "lead": state.get("lead"), "item": item_excerpt(state.get("item"), 4000)},
        )
        decision = ReviewDecision.model_validate(interrupt(request.model_dump()))
        return await carry_out(decision, {**state, **update}, tools, workflow, action)

    settle_lead.__name__ = action.name
    return settle_lead


async def carry_out(decision: ReviewDecision, state: dict[str, Any], tools: Toolbox,
                    workflow: Workflow, action: Action) -> Command[Any]:
    """Turn a reviewer's decision into the next move of the workflow."""
    lead_id = state.get("lead_id") or state["workflow_id"]
    note = f"{decision.action} by {decision.reviewer}" + (f": {decision.note}"
                                                          if decision.note else "")
    # The graph closes the review item it opened, whoever resumed it (CLI, API, Studio, SDK).
    await asyncio.to_thread(tools.crm.resolve, "manual_review", lead_id, tools.clock.now(),
                            note)
    human = {"step": action.name, "agent": SUPERVISOR, "decided_by": "human",
             "outcome": "success", "decision": decision.action, "notes": note,
             "model": "human", "prompt_version": None, "usage": None, "error": None}
    update: dict[str, Any] = {"steps": [human], "flags": [f"human_{decision.action}"]}
    failed_step = (last_step(state) or {}).get("step") or workflow.start
    target: str | None = None
    if decision.action == "reject":
        update.update(status="marketing", status_reason=f"rejected in review: {note}",
                      bant={**(state.get("bant") or {}), "tier": "unqualified"})
        now = tools.clock.now()
        await asyncio.to_thread(tools.crm.enqueue, "marketing", lead_id, note, now)
    elif decision.action == "approve":
        target = workflow.next_transition(failed_step, "success", {}).goto
    elif decision.action == "set_tier":
        update["bant"] = {**(state.get("bant") or {}), "tier": decision.tier,
                          "decided_by": "human"}
        routing = workflow.step_for_agent("routing")
        target = routing.name if routing else None
    else:  # assign
        company = (state.get("lead") or {}).get("company") or {}
        stored = await asyncio.to_thread(
            tools.crm.assign, lead_id=lead_id, rep_id=decision.rep_id or "", kind="rep",
            region=company.get("region"), segment=company.get("segment"),
            reason=f"assigned in review: {note}", audit={"rule": "human_review"},
            now=tools.clock.now(), speed_to_lead_seconds=None,
            account_id=(state.get("account") or {}).get("id"))
        update.update(assignment={k: stored[k] for k in ("rep_id", "region", "segment",
                                                         "reason", "kind", "assigned_at")},
                      status="routed", status_reason=stored["reason"])
        followup = workflow.step_for_agent("followup")
        target = followup.name if followup else None
    if target in workflow.steps:
        history = state.get("messages") or []
        update["messages"] = [make_message(
            workflow_id=state["workflow_id"], seq=len(history) + 1, from_agent=SUPERVISOR,
            to_agent=AGENT_NAMES[workflow.steps[target].agent], message_type="handoff",
            lead_data=lead_reference({**state, **update}),
            processing_notes=f"human review: {note}",
            priority="normal", now=tools.clock.now(),
            deadline_s=workflow.steps[target].timeout_s,
            previous_agent=history[-1]["from_agent"] if history else None)]
        return Command(goto=target, update=update)
    final = {**state, **update, "steps": [*(state.get("steps") or []), human],
             "flags": merge_flags(state.get("flags"), update["flags"])}
    update["outcome"] = stored_outcome(await asyncio.to_thread(persist_outcome, tools, final))
    return Command(goto=END, update=update)
