"""The one small interface every agent implements (rules today, LLM later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from leadflow.graph.state import LeadState, Outcome
from leadflow.toolbox import Toolbox


@dataclass
class StepOutput:
    """What an agent hands back: the step's outcome and the state it changes."""

    outcome: Outcome
    update: dict[str, Any] = field(default_factory=dict)
    decision: str | None = None
    notes: str = ""
    error: str | None = None
    flags: list[str] = field(default_factory=list)
    decided_by: str = "rules"


class Agent(Protocol):
    """An agent node body. `step` names its module (capture, enrichment, …)."""

    step: ClassVar[str]

    async def run(self, state: LeadState, tools: Toolbox) -> StepOutput: ...
