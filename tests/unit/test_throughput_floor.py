"""benchmarks/throughput.py compares like with like: its floor does the real graph's framework
work (same node policies, same path per lead, a real `interrupt()` where the lead waits,
checkpoints of the same size) and its "direct" variant makes the CRM writes the graph makes.
Ten synthetic leads go through the real graph, the floor, the batch runner and direct."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from leadflow.checkpoint import sqlite_checkpointer
from leadflow.clock import SystemClock
from leadflow.data.synthetic import synthetic_leads
from leadflow.graph import build_graph
from leadflow.identity import thread_config, workflow_id_for
from leadflow.toolbox import Toolbox

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "throughput.py"
LEADS = synthetic_leads(10, seed=0, prefix="FLOOR")
WAIT = "await_engagement"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("throughput_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_floor_nodes_have_the_real_graphs_policies(bench: ModuleType) -> None:
    real = build_graph().builder
    floor = bench.floor_graph(None, {}).builder
    assert set(floor.nodes) == set(real.nodes)
    assert floor.edges == real.edges
    for name, spec in real.nodes.items():
        mirror = floor.nodes[name]
        assert mirror.retry_policy == spec.retry_policy, name  # the supervisor's DB_RETRY too
        assert mirror.timeout == spec.timeout, name
        assert mirror.ends == spec.ends, name
        assert mirror.error_handler_node == spec.error_handler_node, name
        if spec.is_error_handler:  # the real handler itself, not a look-alike
            assert mirror.runnable.name == spec.runnable.name
            assert (mirror.runnable.afunc or mirror.runnable.func).__qualname__ == (
                spec.runnable.afunc or spec.runnable.func).__qualname__
    assert real.nodes["supervisor"].retry_policy is not None


async def _real_and_floor(bench: ModuleType, home: Path) -> dict[str, Any]:
    tools = Toolbox.open(f"sqlite:///{home / 'crm.db'}", clock=SystemClock())
    async with sqlite_checkpointer(home / "real.db") as saver:
        real = build_graph(saver, toolbox=tools)
        real_traces = [await bench.trace_lead(real, item, "sync") for item in LEADS]
    scripts = {workflow_id_for(item): bench.script_of(trace)
               for item, trace in zip(LEADS, real_traces, strict=True)}
    async with sqlite_checkpointer(home / "floor.db") as saver:
        floor = bench.floor_graph(saver, scripts)
        floor_traces = [await bench.trace_lead(floor, item, "sync") for item in LEADS]
        floor_states = [await floor.aget_state(thread_config(workflow_id_for(item)))
                        for item in LEADS]
    return {"real": real_traces, "floor": floor_traces, "floor_states": floor_states,
            "sizes": (bench.checkpoint_bytes(home / "real.db"),
                      bench.checkpoint_bytes(home / "floor.db"))}


@pytest.fixture(scope="module")
def seen(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The ten leads through the real graph and through the floor built from its traces."""
    return asyncio.run(_real_and_floor(bench, tmp_path_factory.mktemp("floor")))


def test_floor_takes_each_leads_real_path_and_really_waits(seen: dict[str, Any]) -> None:
    real_paths = [t.path() for t in seen["real"]]
    floor_paths = [t.path() for t in seen["floor"]]
    assert floor_paths == real_paths
    # the mix matters: some leads settle at routing, the others wait for engagement
    settled = [p for p in real_paths if p[-1] == "supervisor" and "routing" in p
               and "followup" not in p]
    waiting = [p for p in real_paths if p[-1] == f"{WAIT} (interrupt)"]
    assert settled and waiting and len(settled) + len(waiting) == len(LEADS)
    for path, state in zip(real_paths, seen["floor_states"], strict=True):
        if path[-1] == f"{WAIT} (interrupt)":  # paused by interrupt(), resumable there
            assert state.next == (WAIT,)
            assert [i.value["waiting_for"] for i in state.interrupts] == ["engagement"]
        else:
            assert state.next == () and not state.interrupts
            assert state.values["outcome"]["status"] == state.values["status"]


def test_floor_checkpoints_are_the_real_size(seen: dict[str, Any]) -> None:
    (real_count, real_bytes), (floor_count, floor_bytes) = seen["sizes"]
    assert floor_count == real_count
    assert 0.5 <= floor_bytes / real_bytes <= 2.0, (floor_bytes, real_bytes)


async def _runner_and_direct(bench: ModuleType, home: Path) -> dict[str, Any]:
    (home / "graph").mkdir()
    (home / "direct").mkdir()
    await bench.run_graph(LEADS, home / "graph", "sync")
    await bench.run_direct(LEADS, home / "direct")
    direct = bench.Direct(Toolbox.open(f"sqlite:///{home / 'direct-paths.db'}",
                                       clock=SystemClock()))
    return {"graph": bench.crm_rows(Toolbox.open(f"sqlite:///{home / 'graph' / 'crm.db'}")),
            "direct": bench.crm_rows(Toolbox.open(
                f"sqlite:///{home / 'direct' / 'crm-direct.db'}")),
            "direct_paths": [await direct.lead(item) for item in LEADS]}


def test_direct_makes_the_graphs_crm_writes(bench: ModuleType, seen: dict[str, Any],
                                            tmp_path: Path) -> None:
    ran = asyncio.run(_runner_and_direct(bench, tmp_path))
    graph, direct = ran["graph"], ran["direct"]
    assert graph == direct
    for written in ("leads", "messages", "notifications", "assignments", "lead_facts"):
        assert graph[written] > 0, written  # the settle, hand-offs, notices, dispositions
    assert graph["lead_leases"] == 0  # held while a lead ran, then given back
    assert ran["direct_paths"] == [t.path() for t in seen["real"]]
