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
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from leadflow.agents.base import StepOutput
from leadflow.checkpoint import sqlite_checkpointer
from leadflow.clock import SystemClock
from leadflow.data.synthetic import synthetic_leads
from leadflow.graph import build_graph
from leadflow.graph.build import DB_RETRY, default_agents
from leadflow.graph.nodes import make_step_error_handler
from leadflow.graph.workflow import load_workflow
from leadflow.identity import thread_config
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox


async def run_graph(items: list[dict[str, Any]], home: Path, durability: str,
                    tag: str = "g") -> float:
    tools = Toolbox.open(f"sqlite:///{home / 'crm.db'}", clock=SystemClock())
    async with sqlite_checkpointer(home / "cp.db") as saver:
        graph = build_graph(saver, toolbox=tools)
        started = time.perf_counter()
        for n, item in enumerate(items):
            await graph.ainvoke({"item": item},
                                thread_config(f"LEAD-{tag}{n}"),
                                durability=durability)  # type: ignore[arg-type]
        return len(items) / (time.perf_counter() - started)


async def run_direct(items: list[dict[str, Any]], home: Path, tag: str = "d") -> float:
    """The same agents in workflow order, state merged by hand, no graph or checkpoints."""
    tools = Toolbox.open(f"sqlite:///{home / 'crm-direct.db'}", clock=SystemClock())
    agents = default_agents(load_workflow())
    started = time.perf_counter()
    for n, item in enumerate(items):
        state: dict[str, Any] = {"item": item, "workflow_id": f"LEAD-{tag}{n}",
                                 "lead_id": f"LEAD-{tag}{n}",
                                 "ingested_at": tools.clock.now().isoformat()}
        for name in ("capture", "enrichment", "qualification", "routing", "followup"):
            out: StepOutput = await agents[name].run(state, tools)  # type: ignore[arg-type]
            state.update(out.update)
            if out.outcome != "success" or (name == "routing" and out.decision != "rep"):
                break
    return len(items) / (time.perf_counter() - started)


def empty_graph(saver: Any) -> Any:
    """Same nodes, edges and node policies (timeout, retry, error handler) as leadflow's
    graph; every body is a no-op that only advances the step log."""
    workflow = load_workflow()
    path = ["capture", "enrichment", "qualification", "routing", "followup"]

    waits = [name for name, action in workflow.actions.items() if action.wait]

    async def supervisor(state: LeadState) -> Command[Any]:
        done = len(state.get("steps") or [])
        if done < len(path):
            return Command(goto=path[done])
        return Command(goto=waits[0] if waits and done == len(path) else END)

    def step(name: str) -> Any:
        async def body(state: LeadState) -> Command[Any]:
            return Command(goto=END if name in waits else "supervisor",
                           update={"steps": [{"step": name}]})
        return body

    builder = StateGraph(LeadState)
    builder.add_node("supervisor", supervisor,
                     destinations=(*workflow.steps, *workflow.actions, END))
    builder.add_edge(START, "supervisor")
    for name, spec in workflow.steps.items():
        builder.add_node(name, step(name), timeout=spec.timeout_s, retry_policy=DB_RETRY,
                         error_handler=make_step_error_handler(spec, DB_RETRY.max_attempts),
                         destinations=("supervisor",))
    for name in workflow.actions:  # the follow-up wait ends the run here, like an interrupt
        builder.add_node(name, step(name), retry_policy=DB_RETRY, destinations=(END,))
    return builder.compile(checkpointer=saver)


async def run_floor(items: list[dict[str, Any]], home: Path, durability: str,
                    tag: str = "e") -> float:
    async with sqlite_checkpointer(home / "cp-empty.db") as saver:
        graph = empty_graph(saver)
        started = time.perf_counter()
        for n, item in enumerate(items):
            await graph.ainvoke({"item": item},
                                thread_config(f"LEAD-{tag}{n}"),
                                durability=durability)
        return len(items) / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=300, help="leads per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--durability", default="sync", choices=("sync", "async", "exit"))
    args = parser.parse_args()
    # Rounds interleave the three variants so machine noise (shared VM) hits all of them;
    # each round uses new leads and new thread ids against the same growing databases.
    rounds: dict[str, list[float]] = {"graph": [], "direct": [], "floor": []}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "warm").mkdir()
        await run_graph(synthetic_leads(20, prefix="WARM"), home / "warm", args.durability)
        for r in range(args.rounds):
            items = synthetic_leads(args.leads, seed=r, prefix=f"R{r}")
            rounds["floor"].append(await run_floor(items, home, args.durability, f"e{r}-"))
            rounds["graph"].append(await run_graph(items, home, args.durability, f"g{r}-"))
            rounds["direct"].append(await run_direct(items, home, f"d{r}-"))
            print(f"round {r + 1}: " + " ".join(f"{k}={v[-1]:.1f}" for k, v in rounds.items()))
    graph, direct, floor = (statistics.median(rounds[k]) for k in ("graph", "direct", "floor"))
    ratio = statistics.median(g / f for g, f in zip(rounds["graph"], rounds["floor"],
                                                    strict=True))
    print(f"leads: {args.rounds} x {args.leads}, durability: {args.durability}, "
          "checkpointer: AsyncSqliteSaver (WAL); medians of rounds")
    print(f"throughput: graph={graph:.1f} leads/s direct={direct:.1f} leads/s "
          f"floor={floor:.1f} leads/s graph/floor={ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
