"""Agent nodes: one workflow step around one agent (its run context, its StepResult, its
LLM-unavailable parking), and the step error handler that turns a raise or a timeout into
the step's failure edge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.errors import NodeError, NodeTimeoutError
from langgraph.runtime import Runtime
from langgraph.types import Command

from leadflow.agents.base import Agent, StepOutput
from leadflow.clock import iso
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.graph.handled_errors import keep_until_run_ends
from leadflow.graph.messages import AGENT_NAMES
from leadflow.graph.workflow import Step
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
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
            **({"usage_by_model": out.usage_by_model} if out.usage_by_model else {}),
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


__all__ = ["SUPERVISOR_NODE", "LLM_UNAVAILABLE", "ToolResolver", "make_agent_node",
           "make_step_error_handler", "run_config"]
