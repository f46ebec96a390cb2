"""Node factories: agent steps (with their timeout and failure edge), the step error
handler, and the supervisor's disposition actions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.errors import NodeError, NodeTimeoutError
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from leadflow.agents.base import Agent, StepOutput
from leadflow.clock import iso
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.followup import handle_wake
from leadflow.graph.handled_errors import keep_until_run_ends
from leadflow.graph.messages import AGENT_NAMES, SUPERVISOR, make_message
from leadflow.graph.workflow import Action, Step, Workflow
from leadflow.outcome import outcome_record, settled_status
from leadflow.review import ReviewDecision, ReviewRequest
from leadflow.state import LeadState, last_step, merge_flags
from leadflow.toolbox import Toolbox
from leadflow.tools.ingest import item_excerpt
from leadflow.tools.notifier import Notice

# Async: opening a toolbox (database, knowledge base) blocks, so it happens off the loop.
ToolResolver = Callable[[Runtime[LeadflowContext]], Awaitable[Toolbox]]
SUPERVISOR_NODE = "supervisor"


def run_config(runtime: Runtime[LeadflowContext]) -> LeadflowContext:
    """The run's context; without one (a bare invoke) every agent decides by its rules."""
    return runtime.context or DEFAULT_RUN


def make_agent_node(step: Step, agent: Agent, tools_for: ToolResolver) -> Callable[..., Any]:
    """Wrap an agent as a graph node that reports its StepResult back to the supervisor."""

    async def run_agent_step(
        state: LeadState, runtime: Runtime[LeadflowContext]
    ) -> Command[Any]:
        tools = await tools_for(runtime)
        started = tools.clock.now()
        t0 = time.perf_counter()
        out = await agent.run(state, tools, run_config(runtime))
        update: dict[str, Any] = {**out.update, "steps": [{
            "step": step.name, "agent": AGENT_NAMES[step.agent], "decided_by": out.decided_by,
            "model": out.model, "prompt_version": out.prompt_version, "usage": out.usage,
            "outcome": out.outcome, "decision": out.decision, "error": out.error,
            "review": out.review,
            "failure_kind": "data" if out.outcome == "failure" else None,
            "error_type": "data_quality" if out.outcome == "failure" else None,
            "notes": out.notes, "retries": 0, "started_at": iso(started),
            "duration_ms": round((time.perf_counter() - t0) * 1000, 3),
        }]}
        if out.flags:
            update["flags"] = out.flags
        if LLM_UNAVAILABLE & set(out.flags):
            await asyncio.to_thread(park_for_llm_retry, tools, state, step.name, out)
        return Command(goto=SUPERVISOR_NODE, update=update)

    run_agent_step.__name__ = f"run_{step.name}"
    return run_agent_step


# SPEC §6 API/LLM failure: the rules decided this time; cache the item for a second look.
LLM_UNAVAILABLE = frozenset({"llm_error", "circuit_open"})


def park_for_llm_retry(tools: Toolbox, state: LeadState, step: str, out: StepOutput) -> None:
    lead_id = out.update.get("lead_id") or state.get("lead_id") or state["workflow_id"]
    now = tools.clock.now()
    tools.crm.enqueue("retry_later", lead_id, out.notes or "LLM unavailable", now,
                      {"step": step, "model": out.model, "flags": out.flags})
    if "circuit_opened" in out.flags:
        tools.notifier.send(Notice(
            audience="technical", subject=f"{step} LLM ({out.model}) circuit opened",
            body=f"{out.notes}\nLeads are decided by rules and queued in retry_later."),
            lead_id=lead_id, step=f"{step}:circuit", now=now)


def make_step_error_handler(step: Step, max_attempts: int) -> Callable[..., Any]:
    """A step that raised or timed out takes its workflow failure edge (SPEC §6)."""

    def on_step_error(state: LeadState, error: NodeError,
                      config: RunnableConfig) -> Command[Any]:
        exc = error.error
        keep_until_run_ends(exc, config)  # works around LangGraph's id()-keyed bookkeeping
        timed_out = isinstance(exc, NodeTimeoutError)
        kind = "timeout" if timed_out else type(exc).__name__
        message = (f"{step.name} timed out after {exc.elapsed:.2f}s"
                   if isinstance(exc, NodeTimeoutError) else f"{kind}: {exc}")
        return Command(
            goto=SUPERVISOR_NODE,
            update={
                "flags": [f"{step.name}_{'timeout' if timed_out else 'error'}"],
                "steps": [{
                    "step": step.name, "agent": AGENT_NAMES[step.agent], "decided_by": "rules",
                    "outcome": "failure", "decision": None, "error": message[:500],
                    "failure_kind": "timeout" if timed_out else "error", "error_type": kind,
                    "notes": message[:500], "retries": 0 if timed_out else max_attempts - 1,
                    # a timed-out step did spend its time; a raised one reports none
                    "duration_ms": (round(exc.elapsed * 1000, 3)
                                    if isinstance(exc, NodeTimeoutError) else None),
                }],
            },
        )

    return on_step_error


def persist_outcome(tools: Toolbox, state: dict[str, Any]) -> dict[str, Any]:
    """Store the message log and, unless the lead was merged into an existing one as a
    duplicate, its settled status and outcome — in one CRM transaction."""
    record = outcome_record(state)
    bant = state.get("bant") or {}
    values = {} if "duplicate" in record["flags"] else {
        "status": record["status"], "status_reason": record["status_reason"],
        "tier": bant.get("tier"), "bant_total": bant.get("total"),
        "record": state.get("lead") or {},
        "outcome": {**record, "messages": []},  # the messages live in the message log
    }
    tools.crm.settle_lead(record["lead_id"], tools.clock.now(), record["messages"], **values)
    return record


def make_action_node(action: Action, tools_for: ToolResolver,
                     workflow: Workflow) -> Callable[..., Any]:
    """A supervisor disposition: queue, assign to a manager, notify, settle the status; a
    `review` action then pauses for a person and carries out their decision."""

    def dispose(state: LeadState, tools: Toolbox) -> dict[str, Any]:
        now = tools.clock.now()
        lead_id = state.get("lead_id") or state["workflow_id"]
        result = last_step(state) or {}
        last = result.get("step", "")
        reason = result.get("error") or result.get("notes") or action.name
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
        update["outcome"] = persist_outcome(tools, {**state, **update})
        return update

    async def wait_for_engagement(state: LeadState,
                                  runtime: Runtime[LeadflowContext]) -> Command[Any]:
        tools = await tools_for(runtime)
        await asyncio.to_thread(persist_outcome, tools, dict(state))  # idempotent
        wake = interrupt({"waiting_for": "engagement", "lead_id": state.get("lead_id"),
                          "sla": state.get("sla")})
        update, finished = await asyncio.to_thread(handle_wake, dict(state), tools, wake)
        if not finished:
            return Command(goto=action.name, update=update)  # wait again
        final = {**state, **update,
                 "flags": merge_flags(state.get("flags"), update.get("flags"))}
        update["outcome"] = await asyncio.to_thread(persist_outcome, tools, final)
        return Command(goto=END, update=update)

    if action.wait == "engagement":
        wait_for_engagement.__name__ = action.name
        return wait_for_engagement

    async def settle_lead(state: LeadState, runtime: Runtime[LeadflowContext]) -> Command[Any]:
        tools = await tools_for(runtime)
        update = await asyncio.to_thread(dispose, state, tools)  # idempotent: re-run on resume
        if not action.review:
            return Command(goto=END, update=update)
        failed = last_step(state) or {}
        kind = failed.get("review") or f"{failed.get('step', 'workflow')}_failed"
        request = ReviewRequest(
            lead_id=state.get("lead_id") or state["workflow_id"],
            kind=kind,
            question=REVIEW_QUESTIONS.get(kind, REVIEW_QUESTIONS["default"]),
            reason=update["status_reason"],
            evidence={"failed_step": failed.get("step"), "error": failed.get("error"),
                      "flags": state.get("flags") or [],
                      "lead": state.get("lead"), "item": item_excerpt(state.get("item"), 4000)},
        )
        decision = ReviewDecision.model_validate(interrupt(request.model_dump()))
        return await carry_out(decision, {**state, **update}, tools, workflow, action)

    settle_lead.__name__ = action.name
    return settle_lead


REVIEW_QUESTIONS = {
    "default": "This lead could not be processed automatically. Approve it (continue with the "
               "data there is), reject it, qualify it by hand, or assign it.",
    "big_deal": "A deal above the size the rules may route alone. Approve the qualification "
                "(route it), set another tier, assign it to a rep, or reject it.",
    "conflicting_signals": "The lead's signals contradict each other (see the conflicts). "
                           "Approve the tier, set another one, assign it, or reject it.",
}


async def carry_out(decision: ReviewDecision, state: dict[str, Any], tools: Toolbox,
                    workflow: Workflow, action: Action) -> Command[Any]:
    """Turn a reviewer's decision into the next move of the workflow."""
    lead_id = state.get("lead_id") or state["workflow_id"]
    note = f"{decision.action} by {decision.reviewer}" + (f": {decision.note}"
                                                          if decision.note else "")
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
            lead_data=state.get("lead") or {}, processing_notes=f"human review: {note}",
            priority="normal", now=tools.clock.now(),
            deadline_s=workflow.steps[target].timeout_s,
            previous_agent=history[-1]["from_agent"] if history else None)]
        return Command(goto=target, update=update)
    final = {**state, **update, "steps": [*(state.get("steps") or []), human],
             "flags": merge_flags(state.get("flags"), update["flags"])}
    update["outcome"] = await asyncio.to_thread(persist_outcome, tools, final)
    return Command(goto=END, update=update)


__all__ = ["make_agent_node", "make_step_error_handler", "make_action_node", "persist_outcome",
           "settled_status", "SUPERVISOR_NODE"]
