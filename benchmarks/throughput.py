"""Throughput in rules mode: the full graph with the SQLite checkpointer writing every step,
beside (a) the five agents called directly (no graph, no checkpoints) and (b) an empty graph
of the same shape (same nodes and edges, no-op bodies) with the same checkpointer — the
framework's own floor on this machine.

    python benchmarks/throughput.py [--leads 300] [--durability sync]

Last line: throughput: graph=X leads/s direct=Y leads/s floor=Z leads/s graph/floor=R
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from leadflow.agents.base import StepOutput
from leadflow.clock import SystemClock
from leadflow.data.synthetic import synthetic_leads
from leadflow.graph import build_graph
from leadflow.graph.build import default_agents
from leadflow.graph.state import LeadState
from leadflow.graph.workflow import load_workflow
from leadflow.runner import sqlite_checkpointer
from leadflow.toolbox import Toolbox


async def run_graph(items: list[dict[str, Any]], home: Path, durability: str) -> float:
    tools = Toolbox.open(f"sqlite:///{home / 'crm.db'}", clock=SystemClock())
    async with sqlite_checkpointer(home / "cp.db") as saver:
        graph = build_graph(saver, toolbox=tools)
        started = time.perf_counter()
        for n, item in enumerate(items):
            await graph.ainvoke({"item": item}, {"configurable": {"thread_id": f"LEAD-g{n}"}},
                                durability=durability)  # type: ignore[arg-type]
        return len(items) / (time.perf_counter() - started)


async def run_direct(items: list[dict[str, Any]], home: Path) -> float:
    """The same agents in workflow order, state merged by hand, no graph or checkpoints."""
    tools = Toolbox.open(f"sqlite:///{home / 'crm-direct.db'}", clock=SystemClock())
    agents = default_agents(load_workflow())
    started = time.perf_counter()
    for n, item in enumerate(items):
        state: dict[str, Any] = {"item": item, "workflow_id": f"LEAD-d{n}",
                                 "lead_id": f"LEAD-d{n}",
                                 "ingested_at": tools.clock.now().isoformat()}
        for name in ("capture", "enrichment", "qualification", "routing", "followup"):
            out: StepOutput = await agents[name].run(state, tools)  # type: ignore[arg-type]
            state.update(out.update)
            if out.outcome != "success" or (name == "routing" and out.decision != "rep"):
                break
    return len(items) / (time.perf_counter() - started)


def empty_graph(saver: Any) -> Any:
    """Same nodes and edges as leadflow's graph; every body is a no-op."""
    workflow = load_workflow()
    path = ["capture", "enrichment", "qualification", "routing", "followup"]

    async def supervisor(state: LeadState) -> Command[Any]:
        done = len(state.get("steps") or [])
        return Command(goto=path[done] if done < len(path) else END)

    def step(name: str) -> Any:
        async def body(state: LeadState) -> Command[Any]:
            return Command(goto="supervisor", update={"steps": [{"step": name}]})
        return body

    builder = StateGraph(LeadState)
    builder.add_node("supervisor", supervisor,
                     destinations=(*workflow.steps, *workflow.actions, END))
    builder.add_edge(START, "supervisor")
    for name, spec in workflow.steps.items():
        builder.add_node(name, step(name), timeout=spec.timeout_s, destinations=("supervisor",))
    for name in workflow.actions:
        builder.add_node(name, step(name), destinations=(END,))
    return builder.compile(checkpointer=saver)


async def run_floor(items: list[dict[str, Any]], home: Path, durability: str) -> float:
    async with sqlite_checkpointer(home / "cp-empty.db") as saver:
        graph = empty_graph(saver)
        started = time.perf_counter()
        for n, item in enumerate(items):
            await graph.ainvoke({"item": item}, {"configurable": {"thread_id": f"LEAD-e{n}"}},
                                durability=durability)
        return len(items) / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--durability", default="sync", choices=("sync", "async", "exit"))
    args = parser.parse_args()
    items = synthetic_leads(args.leads)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "warm").mkdir()
        await run_graph(items[:20], home / "warm", args.durability)  # imports, chroma, caches
        floor = await run_floor(items, home, args.durability)
        graph = await run_graph(items, home, args.durability)
        direct = await run_direct(items, home)
    print(f"leads: {len(items)}, durability: {args.durability}, "
          "checkpointer: AsyncSqliteSaver (WAL)")
    print(f"throughput: graph={graph:.1f} leads/s direct={direct:.1f} leads/s "
          f"floor={floor:.1f} leads/s graph/floor={graph / floor:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
