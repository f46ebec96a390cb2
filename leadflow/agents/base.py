"""The one small interface every agent implements (rules today, LLM later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from leadflow.context import LeadflowContext
from leadflow.settings import RULES
from leadflow.state import LeadState, Outcome
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
    review: str | None = None  # a reason a person should decide (workflow.yaml `review` facts)
    decided_by: str = "rules"  # rules | llm | human (SPEC §7 hierarchical decisions)
    model: str = RULES
    prompt_version: str | None = None
    usage: dict[str, int] | None = None
    # each model's share of `usage` when the step's calls went to several models
    usage_by_model: dict[str, dict[str, int]] | None = None

    def decision_fields(self) -> dict[str, Any]:
        """Who decided, with which model and prompt, at what token cost."""
        return {"decided_by": self.decided_by, "model": self.model,
                "prompt_version": self.prompt_version, "usage": self.usage,
                "usage_by_model": self.usage_by_model}


class Agent(Protocol):
    """An agent node body. `step` names its module (capture, enrichment, …)."""

    step: ClassVar[str]

    async def run(self, state: LeadState, tools: Toolbox, run: LeadflowContext) -> StepOutput: ...
