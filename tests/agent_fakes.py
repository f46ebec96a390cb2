"""Agents that misbehave on purpose, and workflow.yaml with edited timeouts: for tests of
the graph's timeout and failure edges."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

import yaml

from leadflow.agents.base import StepOutput
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox

WORKFLOW = Path(__file__).parents[1] / "leadflow/config/workflow.yaml"


class SlowAgent:
    """An enrichment agent slower than any test's step timeout."""

    step: ClassVar[str] = "enrichment"

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        await asyncio.sleep(5)
        raise AssertionError("the timeout should have cancelled this")


class BrokenAgent:
    """An agent that crashes: the step's error handler takes the failure edge."""

    def __init__(self, step: str) -> None:
        self.step = step  # type: ignore[misc]

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        raise RuntimeError(f"{self.step} exploded")


def with_timeouts(tmp_path: Path, **timeouts: str) -> Path:
    """The bundled workflow.yaml with some step timeouts replaced."""
    spec = yaml.safe_load(WORKFLOW.read_text())
    for step, timeout in timeouts.items():
        spec["steps"][step]["timeout"] = timeout
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path
