"""Node factories: agent steps (with their timeout and failure edge), the step error
handler, and the supervisor's disposition actions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from langgraph.errors import NodeError, NodeTimeoutError
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from leadflow.agents.base import Agent, RunConfig, StepOutput
from leadflow.clock import iso
from leadflow.graph.context import LeadflowContext
from leadflow.graph.messages import AGENT_NAMES
from leadflow.graph.state import LeadState, last_step
from leadflow.graph.workflow import Action, Step
from leadflow.outcome import outcome_record, settled_status
from leadflow.toolbox import Toolbox
from leadflow.tools.notifier import Notice

ToolResolver = Callable[[Runtime[LeadflowContext]], Toolbox]
SUPERVISOR_NODE = "supervisor"


def run_config(runtime: Runtime[LeadflowContext]) -> RunConfig:
    context = runtime.context
    if context is None:
        return RunConfig()
    return RunConfig(model=context.model, prompt_version=context.prompt_version)


def make_agent_node(step: Step, agent: Agent, tools_for: ToolResolver) -> Callable[..., Any]:
    """Wrap an agent as a graph node that reports its StepResult back to the supervisor."""

    async def run_agent_step(
        state: LeadState, runtime: Runtime[LeadflowContext]
    ) -> Command[Any]:
        tools = tools_for(runtime)
        started = tools.clock.now()
        t0 = time.perf_counter()
        out = await agent.run(state, tools, run_config(runtime))
        update: dict[str, Any] = {**out.update, "steps": [{
            "step": step.name, "agent": AGENT_NAMES[step.agent], "decided_by": out.decided_by,
            "model": out.model, "prompt_version": out.prompt_version, "usage": out.usage,
            "outcome": out.outcome, "decision": out.decision, "error": out.error,
            "failure_kind": "data" if out.outcome == "failure" else None,
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

    def on_step_error(state: LeadState, error: NodeError) -> Command[Any]:
        exc = error.error
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
                    "failure_kind": "timeout" if timed_out else "error",
                    "notes": message[:500], "retries": 0 if timed_out else max_attempts - 1,
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


def make_action_node(action: Action, tools_for: ToolResolver) -> Callable[..., Any]:
    """A supervisor disposition: queue, assign to a manager, notify, settle the status."""

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

    async def settle_lead(state: LeadState, runtime: Runtime[LeadflowContext]) -> Command[Any]:
        tools = tools_for(runtime)
        return Command(goto=END, update=await asyncio.to_thread(dispose, state, tools))

    settle_lead.__name__ = action.name
    return settle_lead


__all__ = ["make_agent_node", "make_step_error_handler", "make_action_node", "persist_outcome",
           "settled_status", "SUPERVISOR_NODE"]
