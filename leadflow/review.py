"""Human review (SPEC §7 hierarchical decisions: people decide the edge cases).

A lead that needs a person pauses its thread with LangGraph's `interrupt()`, carrying a
`ReviewRequest`; a reviewer answers with a `ReviewDecision` through `Command(resume=…)`. The
CLI, the HTTP API and LangGraph Studio all resume through `decide_review`, or (Studio) by
sending the same decision as the resume value.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadflow.checkpoint import compact_thread
from leadflow.context import LeadflowContext
from leadflow.identity import thread_config
from leadflow.outcome import outcome_of, outcome_record
from leadflow.toolbox import Toolbox
from leadflow.tools.crm.leases import held_lead

ReviewAction = Literal["approve", "reject", "set_tier", "assign"]


class ReviewRequest(BaseModel):
    """What a reviewer is asked, the options they have, and the evidence."""

    lead_id: str
    kind: str = Field(description="why a person is needed, e.g. capture_failed")
    question: str
    reason: str
    options: list[ReviewAction] = ["approve", "reject", "set_tier", "assign"]
    evidence: dict[str, Any] = Field(default_factory=dict)


class ReviewDecision(BaseModel):
    """A reviewer's answer: approve (continue as if the step had succeeded), reject (not a
    lead: marketing queue), set_tier (qualify by hand, then route), assign (to a rep)."""

    # The same rule as `_needs`, stated in the JSON schema so API clients see it.
    model_config = ConfigDict(json_schema_extra={"allOf": [
        {"if": {"properties": {"action": {"const": "set_tier"}}},
         "then": {"required": ["tier"], "properties": {"tier": {"type": "string"}}}},
        {"if": {"properties": {"action": {"const": "assign"}}},
         "then": {"required": ["rep_id"],
                  "properties": {"rep_id": {"type": "string", "minLength": 1}}}},
    ]})

    action: ReviewAction
    tier: Literal["hot", "warm", "cold", "unqualified"] | None = None
    rep_id: str | None = Field(default=None, min_length=1, max_length=64)
    reviewer: str = Field(default="unknown", max_length=200)
    note: str = Field(default="", max_length=5000)

    @model_validator(mode="after")
    def _needs(self) -> ReviewDecision:
        if self.action == "set_tier" and not self.tier:
            raise ValueError("set_tier needs a tier")
        if self.action == "assign" and not self.rep_id:
            raise ValueError("assign needs a rep_id")
        return self


REVIEW_QUESTIONS = {
    "default": "This lead could not be processed automatically. Approve it (continue with the "
               "data there is), reject it, qualify it by hand, or assign it.",
    "big_deal": "A deal above the size the rules may route alone. Approve the qualification "
                "(route it), set another tier, assign it to a rep, or reject it.",
    "conflicting_signals": "The lead's signals contradict each other (see the conflicts). "
                           "Approve the tier, set another one, assign it, or reject it.",
}


def question_for(kind: str) -> str:
    """What a reviewer is asked about a lead paused for `kind` (capture_failed, big_deal…)."""
    return REVIEW_QUESTIONS.get(kind, REVIEW_QUESTIONS["default"])


def pending_review(snapshot: Any) -> dict[str, Any] | None:
    """The ReviewRequest a paused thread is waiting on, or None."""
    for interrupt in getattr(snapshot, "interrupts", ()) or ():
        value = getattr(interrupt, "value", None)
        if isinstance(value, dict) and "question" in value:
            return value
    return None


def waiting_outcome(values: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Outcome of a lead paused for review: status manual_review, flagged awaiting_review."""
    record = outcome_record({**values, "status": "manual_review",
                             "status_reason": request.get("reason")})
    record["flags"] = [*record["flags"], "awaiting_review"]
    return record


async def decide_review(graph: CompiledStateGraph[Any, Any, Any, Any], tools: Toolbox,
                        lead_id: str, decision: ReviewDecision,
                        context: LeadflowContext | None = None) -> dict[str, Any]:
    """Resume a paused lead with a decision; returns its outcome afterwards."""
    config: RunnableConfig = thread_config(lead_id)
    async with held_lead(tools.crm, lead_id):
        snapshot = await graph.aget_state(config)
        request = pending_review(snapshot)
        if request is None:
            raise ValueError(f"{lead_id} is not waiting for review")
        if decision.action not in request.get("options", []):
            raise ValueError(f"{decision.action} is not an option for {lead_id}")
        if decision.action == "assign" and tools.reps.get(decision.rep_id or "") is None:
            raise ValueError(f"no rep {decision.rep_id!r} in the directory")
        result = await graph.ainvoke(Command(resume=decision.model_dump()), config,
                                     context=context)
        await compact_thread(graph.checkpointer, lead_id)
        after = await graph.aget_state(config)
    if (again := pending_review(after)) is not None:
        return waiting_outcome(dict(after.values), again)
    return outcome_of(result) if result.get("outcome") else outcome_record(dict(after.values))
