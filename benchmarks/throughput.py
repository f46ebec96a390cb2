"""Throughput in rules mode, three variants of the same leads:

- graph: each lead as `leadflow run` processes it (`BatchRunner.process`: the lead's lease,
  the thread read, the full graph with the SQLite checkpointer writing every step, the
  thread's compaction once it settles or pauses);
- floor: the same graph work with none of leadflow's: a graph built from the real graph's
  own node specs (same nodes, edges, destinations, timeouts, retry policies and error
  handlers, the supervisor's `DB_RETRY` included) whose bodies only replay, per lead, the
  state updates the real nodes made — so the floor takes the same path (about half the
  leads settle at routing, the rest pause), pauses with a real `interrupt()` where the real
  lead waits, and checkpoints the same bytes — under the runner's same checkpointer calls
  (thread read, invoke, compaction), without lease or CRM;
- direct: leadflow's own work with no graph: the same node bodies (supervisor, the five
  agent nodes, the dispositions) called in a plain loop with the state merged by the state's
  own reducers, inside the lead's lease — so the same CRM writes as the graph (hand-off
  messages, notices, dispositions, the settled outcome; the printed row counts compare them).

Each round first runs the real graph once, untimed, on its own databases to record every
lead's node updates (the floor's script) and its checkpoint bytes, and the floor once,
untimed, to check it takes the same path and to measure its bytes; the three timed variants
then run on fresh databases.

    python benchmarks/throughput.py [--leads 300] [--rounds 3] [--durability sync]

Last line: throughput: graph=X leads/s direct=Y leads/s floor=Z leads/s graph/floor=R
graph-floor_ms=D checkpoint_kb graph=A floor=B
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast, get_origin, get_type_hints

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from sqlalchemy import func, inspect, select, table

from leadflow.checkpoint import compact_thread, sqlite_checkpointer
from leadflow.clock import SystemClock
from leadflow.data.synthetic import synthetic_leads
from leadflow.graph import build_graph
from leadflow.graph.build import default_agents
from leadflow.graph.dispositions import dispose
from leadflow.graph.nodes import SUPERVISOR_NODE, make_agent_node
from leadflow.graph.supervisor import make_supervisor
from leadflow.graph.workflow import load_workflow
from leadflow.identity import thread_config, workflow_id_for
from leadflow.outcome import persist_outcome
from leadflow.runner import BatchRunner
from leadflow.settings import Durability
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools.crm.leases import held_lead

Graph = CompiledStateGraph[Any, Any, Any, Any]


# --- what a lead's run does, node by node -------------------------------------------------

@dataclass
class Hop:
    """One supervisor visit and the node it sent the lead to: what each wrote, whether that
    node paused (its interrupt value) and where it went next."""

    update: dict[str, Any]
    goto: str = END
    node_update: dict[str, Any] = field(default_factory=dict)
    interrupt: Any = None
    after: str = END


@dataclass
class Trace:
    """A lead's run as seen from outside: node updates in order, where the thread waits."""

    updates: list[tuple[str, Any]]
    waiting: tuple[str, ...]  # the interrupted nodes (state.next of a paused thread)
    interrupts: tuple[Any, ...]

    def path(self) -> tuple[str, ...]:
        """The nodes that ran, then the node it paused in, marked `(interrupt)`."""
        return (*(name for name, _ in self.updates if name != "__interrupt__"),
                *(f"{name} (interrupt)" for name in self.waiting))


async def trace_lead(graph: Graph, item: dict[str, Any], durability: Durability) -> Trace:
    config = thread_config(workflow_id_for(item))
    updates: list[tuple[str, Any]] = []
    async for chunk in graph.astream({"item": item}, config, stream_mode="updates",
                                     durability=durability):
        updates.extend(chunk.items())
    snapshot = await graph.aget_state(config)
    interrupts = tuple(snapshot.interrupts)
    return Trace(updates, tuple(snapshot.next) if interrupts else (), interrupts)


def script_of(trace: Trace) -> list[Hop]:
    """The floor's script for one lead, from the real graph's trace."""
    hops: list[Hop] = []
    entries = list(trace.updates)
    i = 0
    while i < len(entries):
        name, update = entries[i]
        if name != SUPERVISOR_NODE:
            raise ValueError(f"unexpected node {name!r} where the supervisor should run")
        hop = Hop(update=dict(update or {}))
        hops.append(hop)
        i += 1
        if i == len(entries):
            break  # the supervisor settled the lead: END
        name, update = entries[i]
        if name == "__interrupt__":
            hop.goto, hop.interrupt = trace.waiting[0], trace.interrupts[0].value
            break
        hop.goto, hop.node_update = name, dict(update or {})
        i += 1
        if i < len(entries) and entries[i][0] == SUPERVISOR_NODE:
            hop.after = SUPERVISOR_NODE
        elif i < len(entries) and entries[i][0] == "__interrupt__":
            raise ValueError(f"{name} handed over to a node that paused without the supervisor")
    return hops


# --- the floor ------------------------------------------------------------------------------

def floor_graph(saver: Any, scripts: Mapping[str, list[Hop]]) -> Graph:
    """The real graph's nodes with their own policies (read from `build_graph()`'s builder,
    so a change there changes the floor) and bodies that replay `scripts[thread_id]`."""
    real = build_graph().builder
    if real.branches or real.waiting_edges:
        raise ValueError("the floor copies plain edges only; the real graph now has more")

    def hop_for(state: LeadState, config: RunnableConfig) -> Hop:
        # every supervisor visit after the first follows exactly one step record
        script = scripts[(config.get("configurable") or {})["thread_id"]]
        return script[len(state.get("steps") or [])]

    async def supervisor(state: LeadState, config: RunnableConfig) -> Command[Any]:
        hop = hop_for(state, config)
        return Command(goto=hop.goto, update=hop.update)

    def body(name: str) -> Any:
        async def replay(state: LeadState, config: RunnableConfig) -> Command[Any]:
            hop = hop_for(state, config)
            if hop.goto != name:
                raise RuntimeError(f"floor off script: in {name}, script says {hop.goto}")
            if hop.interrupt is not None:
                interrupt(hop.interrupt)  # the lead waits here, as the real one does
                return Command(goto=END)
            return Command(goto=hop.after, update=hop.node_update)
        replay.__name__ = name
        return replay

    builder = StateGraph(real.state_schema, context_schema=real.context_schema,
                         input_schema=real.input_schema)
    for name, spec in real.nodes.items():
        if spec.is_error_handler:
            continue  # added below with the node it handles
        handler = real.nodes[spec.error_handler_node].runnable if spec.error_handler_node else None
        builder.add_node(name, supervisor if name == SUPERVISOR_NODE else body(name),
                         retry_policy=spec.retry_policy, timeout=spec.timeout,
                         error_handler=handler, destinations=spec.ends,
                         metadata=spec.metadata, cache_policy=spec.cache_policy,
                         defer=spec.defer)
    for start, end in real.edges:
        builder.add_edge(start, end)
    return builder.compile(checkpointer=saver, name="leadflow-floor")


async def record_scripts(items: list[dict[str, Any]], home: Path,
                         durability: Durability) -> dict[str, list[Hop]]:
    """Run the real graph once (untimed, its own databases) and keep each lead's script."""
    tools = Toolbox.open(f"sqlite:///{home / 'script-crm.db'}", clock=SystemClock())
    async with sqlite_checkpointer(home / "script-cp.db") as saver:
        graph = build_graph(saver, toolbox=tools)
        return {workflow_id_for(item): script_of(await trace_lead(graph, item, durability))
                for item in items}


async def check_floor(items: list[dict[str, Any]], home: Path, durability: Durability,
                      scripts: Mapping[str, list[Hop]]) -> Counter[tuple[str, ...]]:
    """Run the floor once (untimed, its own database) and require each lead's path to be its
    real counterpart's; returns how many leads took each path."""
    paths: Counter[tuple[str, ...]] = Counter()
    async with sqlite_checkpointer(home / "check-cp.db") as saver:
        graph = floor_graph(saver, scripts)
        for item in items:
            path = (await trace_lead(graph, item, durability)).path()
            expected = script_path(scripts[workflow_id_for(item)])
            if path != expected:
                raise AssertionError(f"floor path {path} != real path {expected}")
            paths[path] += 1
    return paths


def script_path(hops: list[Hop]) -> tuple[str, ...]:
    """The path a script makes the floor take (as `Trace.path` spells it)."""
    path: list[str] = []
    for hop in hops:
        path.append(SUPERVISOR_NODE)
        if hop.interrupt is not None:
            path.append(f"{hop.goto} (interrupt)")
        elif hop.goto != END:
            path.append(hop.goto)
    return tuple(path)


# --- the three timed variants ---------------------------------------------------------------

async def run_graph(items: list[dict[str, Any]], home: Path, durability: Durability,
                    scripts: Mapping[str, list[Hop]] | None = None) -> float:
    """`BatchRunner.process` per lead; with `scripts`, each lead's steps must be the ones
    its recorded run took (the floor replays those)."""
    tools = Toolbox.open(f"sqlite:///{home / 'crm.db'}", clock=SystemClock())
    async with sqlite_checkpointer(home / "cp.db") as saver:
        runner = BatchRunner(build_graph(saver, toolbox=tools), tools, durability=durability)
        started = time.perf_counter()
        outcomes = [await runner.process(item) for item in items]
        rate = len(items) / (time.perf_counter() - started)
    steps = set(load_workflow().steps)
    for item, (outcome, how) in zip(items, outcomes, strict=True):
        ran = [d["step"] for d in outcome["decisions"]]
        recorded = ([n for n in script_path(scripts[workflow_id_for(item)]) if n in steps]
                    if scripts is not None else ran)
        if how != "processed" or ran != recorded:
            raise AssertionError(f"lead {item['id']}: {how}, steps {ran} != {recorded}")
    return rate


async def run_floor(items: list[dict[str, Any]], home: Path, durability: Durability,
                    scripts: Mapping[str, list[Hop]]) -> float:
    """The runner's checkpointer calls per lead (read the thread, run it, compact it)."""
    async with sqlite_checkpointer(home / "cp-floor.db") as saver:
        graph = floor_graph(saver, scripts)
        started = time.perf_counter()
        for item in items:
            thread_id = workflow_id_for(item)
            config = thread_config(thread_id)
            snapshot = await graph.aget_state(config)
            await graph.ainvoke(None if snapshot.next else {"item": item}, config,
                                durability=durability)
            await compact_thread(saver, thread_id)
        return len(items) / (time.perf_counter() - started)


def _reducers() -> dict[str, Any]:
    hints = get_type_hints(LeadState, include_extras=True)
    return {key: hint.__metadata__[0] for key, hint in hints.items()
            if get_origin(hint) is Annotated}


REDUCERS = _reducers()


def merge(state: dict[str, Any], update: Mapping[str, Any] | None) -> None:
    """Apply an update as the graph would: reducer channels combine, the rest overwrite."""
    for key, value in (update or {}).items():
        reducer = REDUCERS.get(key)
        state[key] = reducer(state.get(key) or [], value) if reducer else value


class Direct:
    """The graph's node bodies in a plain loop: no Pregel, no checkpoints."""

    def __init__(self, tools: Toolbox) -> None:
        self.tools = tools
        self.workflow = load_workflow()
        agents = default_agents(self.workflow)

        async def tools_for(_: Runtime[Any]) -> Toolbox:
            return tools

        self.supervisor = make_supervisor(self.workflow, tools_for)
        self.steps = {name: make_agent_node(step, agents[step.agent], tools_for)
                      for name, step in self.workflow.steps.items()}
        self.runtime: Runtime[Any] = Runtime()

    async def lead(self, item: dict[str, Any]) -> tuple[str, ...]:
        """One lead, inside its lease as the runner holds it; returns the nodes it ran."""
        thread_id = workflow_id_for(item)
        config = thread_config(thread_id)
        state: dict[str, Any] = {"item": item}
        path: list[str] = []
        node = SUPERVISOR_NODE
        async with held_lead(self.tools.crm, thread_id):
            while node != END:
                path.append(node)
                if node == SUPERVISOR_NODE:
                    command = await self.supervisor(state, self.runtime, config)
                elif node in self.steps:
                    command = await self.steps[node](state, self.runtime)
                else:
                    action = self.workflow.actions[node]
                    if action.wait:  # what the wait node writes before it pauses
                        await asyncio.to_thread(persist_outcome, self.tools, dict(state))
                        path[-1] = f"{node} (interrupt)"
                        break
                    update = await asyncio.to_thread(dispose, action, state,  # type: ignore[arg-type]
                                                     self.tools)
                    merge(state, update)
                    if action.review:  # a review pauses after its disposition
                        path[-1] = f"{node} (interrupt)"
                    break
                merge(state, command.update)
                node = str(command.goto)
        return tuple(path)


async def run_direct(items: list[dict[str, Any]], home: Path) -> float:
    direct = Direct(Toolbox.open(f"sqlite:///{home / 'crm-direct.db'}", clock=SystemClock()))
    started = time.perf_counter()
    for item in items:
        await direct.lead(item)
    return len(items) / (time.perf_counter() - started)


# --- what each variant wrote ------------------------------------------------------------------

def checkpoint_bytes(path: Path) -> tuple[int, int]:
    """(checkpoints, bytes) a SQLite checkpoint file holds: checkpoint and metadata blobs
    plus every pending write's value."""
    with sqlite3.connect(path) as conn:
        count, blobs = conn.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(checkpoint)"
                                    " + LENGTH(metadata)), 0) FROM checkpoints").fetchone()
        writes = conn.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes").fetchone()[0]
    return int(count), int(blobs) + int(writes)


def crm_rows(tools: Toolbox) -> dict[str, int]:
    """Rows per CRM table (migration bookkeeping aside)."""
    engine = tools.crm.engine
    with engine.connect() as conn:
        return {name: int(conn.execute(select(func.count()).select_from(table(name))).scalar()
                          or 0)
                for name in inspect(engine).get_table_names() if name != "alembic_version"}


# --- main ---------------------------------------------------------------------------------------

async def warm_up(home: Path, durability: Durability) -> None:
    items = synthetic_leads(20, prefix="WARM")
    scripts = await record_scripts(items, home, durability)
    await run_floor(items, home, durability, scripts)
    await run_graph(items, home, durability, scripts)
    await run_direct(items, home)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=300, help="leads per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--durability", default="sync", choices=("sync", "async", "exit"))
    args = parser.parse_args()
    durability = cast(Durability, args.durability)
    # Rounds interleave the three variants so machine noise (shared VM) hits all of them;
    # each round uses new leads and new thread ids against the same growing databases.
    rounds: dict[str, list[float]] = {"graph": [], "direct": [], "floor": []}
    paths: Counter[tuple[str, ...]] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "warm").mkdir()
        await warm_up(home / "warm", durability)
        for r in range(args.rounds):
            items = synthetic_leads(args.leads, seed=r, prefix=f"R{r}")
            scripts = await record_scripts(items, home, durability)
            paths.update(await check_floor(items, home, durability, scripts))
            rounds["floor"].append(await run_floor(items, home, durability, scripts))
            rounds["graph"].append(await run_graph(items, home, durability, scripts))
            rounds["direct"].append(await run_direct(items, home))
            print(f"round {r + 1}: " + " ".join(f"{k}={v[-1]:.1f}" for k, v in rounds.items()),
                  flush=True)
        leads = args.rounds * args.leads
        sizes = {"graph": checkpoint_bytes(home / "script-cp.db"),
                 "floor": checkpoint_bytes(home / "check-cp.db")}
        kept = {"graph": checkpoint_bytes(home / "cp.db"),
                "floor": checkpoint_bytes(home / "cp-floor.db")}
        rows = {"graph": crm_rows(Toolbox.open(f"sqlite:///{home / 'crm.db'}")),
                "direct": crm_rows(Toolbox.open(f"sqlite:///{home / 'crm-direct.db'}"))}
    graph, direct, floor = (statistics.median(rounds[k]) for k in ("graph", "direct", "floor"))
    ratio = statistics.median(g / f for g, f in zip(rounds["graph"], rounds["floor"],
                                                    strict=True))
    ms = {k: 1000 / v for k, v in (("graph", graph), ("direct", direct), ("floor", floor))}
    print(f"leads: {args.rounds} x {args.leads}, durability: {args.durability}, "
          "checkpointer: AsyncSqliteSaver (WAL); medians of rounds")
    print("paths (graph = floor = direct):")
    for path, count in paths.most_common():
        print(f"  {count:5d}  {' > '.join(p for p in path if p != SUPERVISOR_NODE)}")
    for k in ("graph", "floor"):
        count, size = sizes[k]
        print(f"checkpoints {k}: {count / leads:.1f} a lead, {size / leads / 1024:.1f} KB "
              f"written a lead ({size / max(count, 1) / 1024:.2f} KB a checkpoint), "
              f"{kept[k][1] / leads / 1024:.1f} KB kept after compaction")
    print("CRM rows: " + " ".join(f"{k}={sum(v.values())}" for k, v in rows.items())
          + "".join(f" [{t}: graph={rows['graph'].get(t, 0)} direct={rows['direct'].get(t, 0)}]"
                    for t in sorted(set(rows["graph"]) | set(rows["direct"]))
                    if rows["graph"].get(t, 0) != rows["direct"].get(t, 0)))
    print(f"per lead: graph={ms['graph']:.2f} ms direct={ms['direct']:.2f} ms "
          f"floor={ms['floor']:.2f} ms graph-floor={ms['graph'] - ms['floor']:.2f} ms")
    print(f"throughput: graph={graph:.1f} leads/s direct={direct:.1f} leads/s "
          f"floor={floor:.1f} leads/s graph/floor={ratio:.2f} "
          f"graph-floor_ms={ms['graph'] - ms['floor']:.2f} "
          f"checkpoint_kb graph={sizes['graph'][1] / leads / 1024:.1f} "
          f"floor={sizes['floor'][1] / leads / 1024:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
