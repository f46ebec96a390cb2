"""Graph assembly: supervisor + one node per workflow step + one per disposition action.

`build_graph(checkpointer=…)` is for apps and tests; the module-level `graph` (no
checkpointer: the LangGraph server brings its own) is what `langgraph.json` points at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy

from leadflow.agents.base import Agent
from leadflow.agents.capture import CaptureAgent
from leadflow.agents.enrichment import EnrichmentAgent
from leadflow.agents.followup import FollowUpAgent
from leadflow.agents.qualification import QualificationAgent
from leadflow.agents.routing import RoutingAgent
from leadflow.context import LeadflowContext
from leadflow.graph.dispositions import make_action_node
from leadflow.graph.nodes import SUPERVISOR_NODE, make_agent_node, make_step_error_handler
from leadflow.graph.supervisor import make_supervisor
from leadflow.graph.workflow import END as WF_END
from leadflow.graph.workflow import Workflow, load_workflow, parse_duration
from leadflow.state import LeadInput, LeadState
from leadflow.toolbox import Toolbox, opened_toolbox, toolbox_for

# Transient database trouble (locked SQLite, dropped connection) is retried with backoff and
# jitter; anything else — including a step timeout — takes the workflow's failure edge.
DB_RETRY = RetryPolicy(max_attempts=3, initial_interval=0.05, backoff_factor=2.0, jitter=True,
                       retry_on=(sqlalchemy.exc.OperationalError,))


def default_agents(workflow: Workflow) -> dict[str, Agent]:
    """The rules implementation of every agent (the offline default, SPEC §4)."""
    followup = workflow.step_for_agent("followup")
    return {
        "capture": CaptureAgent(),
        "enrichment": EnrichmentAgent(),
        "qualification": QualificationAgent(),
        "routing": RoutingAgent(),
        "followup": FollowUpAgent(
            parse_duration(followup.settings.get("escalate_after")) if followup else None),
    }


def build_graph(
    checkpointer: Any = None,
    *,
    workflow: Workflow | Path | str | None = None,
    agents: Mapping[str, Agent] | None = None,
    toolbox: Toolbox | None = None,
    timeout_scale: float = 1.0,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the lead graph.

    workflow: a loaded Workflow or a path to a workflow YAML (default: the bundled one).
    agents: override implementations by agent module name (e.g. a slow fake in tests).
    toolbox: fixed tools (tests); by default they are opened from the run's context/settings.
    timeout_scale: multiplies every step timeout (tests use tiny scales).
    """
    wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
    implementations = {**default_agents(wf), **(agents or {})}

    async def tools_for(runtime: Runtime[LeadflowContext]) -> Toolbox:
        if toolbox is not None:
            return toolbox
        url = runtime.context.database_url if runtime.context else ""
        opened = opened_toolbox(url)  # after the first step: a dict lookup
        return opened if opened is not None else await asyncio.to_thread(toolbox_for, url)

    builder = StateGraph(LeadState, context_schema=LeadflowContext, input_schema=LeadInput)
    supervisor_targets = (*wf.steps, *wf.actions, "__end__")
    builder.add_node(SUPERVISOR_NODE, make_supervisor(wf, tools_for),
                     destinations=supervisor_targets, retry_policy=DB_RETRY)
    builder.add_edge(START, SUPERVISOR_NODE)
    for step in wf.steps.values():
        timeout = step.timeout_s * timeout_scale if step.timeout_s else None
        builder.add_node(
            step.name,
            make_agent_node(step, implementations[step.agent], tools_for),
            timeout=timeout,
            retry_policy=DB_RETRY,
            error_handler=make_step_error_handler(step, DB_RETRY.max_attempts),
            destinations=(SUPERVISOR_NODE,),
        )
    for action in wf.actions.values():
        builder.add_node(action.name, make_action_node(action, tools_for, wf),
                         retry_policy=DB_RETRY,
                         destinations=(*wf.steps, "__end__") if action.review
                         else (action.name, SUPERVISOR_NODE, "__end__") if action.wait
                         else ("__end__",))
    assert WF_END == "end"
    return builder.compile(checkpointer=checkpointer, name="leadflow")


graph = build_graph()
