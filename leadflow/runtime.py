"""One runtime assembly: the toolbox, the checkpointer, the compiled graph and the batch runner,
opened together with the same options for every entry point (CLI, worker, API, evals).

Each entry point used to wire these by hand, and the copies drifted (some passed the timeout
scale, some no run context). `open_runtime` is now the only place they are put together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from leadflow.agents.base import Agent
from leadflow.checkpoint import open_checkpointer
from leadflow.clock import Clock
from leadflow.context import LeadflowContext
from leadflow.graph.build import build_graph
from leadflow.graph.workflow import Workflow
from leadflow.runner import BATCH_DURABILITY, BatchRunner, Durability
from leadflow.settings import Settings
from leadflow.toolbox import Toolbox

CheckpointerFactory = Callable[[], AbstractAsyncContextManager[BaseCheckpointSaver[Any]]]


@dataclass(frozen=True)
class Runtime:
    """What an entry point works with once the runtime is open."""

    settings: Settings
    tools: Toolbox
    graph: CompiledStateGraph[Any, Any, Any, Any]
    runner: BatchRunner
    context: LeadflowContext  # the run context every invocation passes (model, prompt version)


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    context: Mapping[str, Any] | None = None,
    tools: Toolbox | None = None,
    clock: Clock | None = None,
    checkpointer: CheckpointerFactory | None = None,
    durability: Durability = BATCH_DURABILITY,
    workflow: Workflow | None = None,
    agents: Mapping[str, Agent] | None = None,
) -> AsyncIterator[Runtime]:
    """Open everything a process needs to run leads, and close it afterwards.

    context: run-context fields on top of the settings' model (e.g. `prompt_version`).
    tools: an already-open toolbox (tests with a frozen clock); it is left open.
    clock: the clock of a toolbox opened here (evals judge at a fixed moment).
    checkpointer: another checkpointer factory (tests); default: the settings' one.
    workflow, agents: another workflow and agent implementations (`leadflow whatif` replays
        a changed workflow and stops after routing); default: the bundled ones.
    """
    own_tools = tools is None
    toolbox = tools if tools is not None else await asyncio.to_thread(
        Toolbox.open, settings.database_url, clock=clock, kb_dir=settings.kb_dir)
    run_context = LeadflowContext(**{"model": settings.model, **(context or {})})
    try:
        saver_cm = checkpointer() if checkpointer else open_checkpointer(settings)
        async with saver_cm as saver:
            graph = build_graph(saver, workflow=workflow, agents=agents, toolbox=toolbox,
                                timeout_scale=settings.timeout_scale)
            runner = BatchRunner(graph, toolbox, durability=durability, context=run_context)
            yield Runtime(settings, toolbox, graph, runner, run_context)
    finally:
        if own_tools:
            toolbox.crm.close()
