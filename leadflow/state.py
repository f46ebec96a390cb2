"""The lead's graph state: a TypedDict with reducers, checkpointed after every step."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from typing_extensions import TypedDict  # pydantic (Studio schemas) needs it on Python 3.11

Outcome = Literal["success", "failure", "duplicate"]


class StepResult(TypedDict, total=False):
    """How one workflow step ended; the supervisor reads the last one to pick the next edge.
    The list of them is the lead's trajectory."""

    step: str  # workflow step name
    agent: str  # the agent's display name (SPEC §5)
    decided_by: str  # rules | llm | human
    model: str  # `rules` or the provider:model that was asked
    prompt_version: str | None
    usage: dict[str, int] | None  # input_tokens, output_tokens, calls (every call of the step)
    usage_by_model: dict[str, dict[str, int]]  # only when the step's calls used several models
    outcome: Outcome
    decision: str | None  # e.g. the tier after qualification, "rep" after routing
    error: str | None
    review: str | None  # why a person should look before the workflow goes on
    failure_kind: Literal["data", "timeout", "error"] | None  # who hears about it (SPEC §6)
    error_type: str | None  # data_quality | timeout | the exception's class (dashboard)
    notes: str  # processing notes handed to the next agent
    retries: int
    started_at: str
    duration_ms: float | None  # wall time of the step (None: it raised)


def merge_flags(left: list[str] | None, right: list[str] | None) -> list[str]:
    """Union that keeps first-seen order, so a replayed step never doubles a flag."""
    merged = list(left or [])
    merged.extend(flag for flag in (right or []) if flag not in merged)
    return merged


def append_messages(
    left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Append hand-off messages, ignoring ids already present (idempotent on replay)."""
    merged = list(left or [])
    seen = {m["message_id"] for m in merged}
    merged.extend(m for m in (right or []) if m["message_id"] not in seen)
    return merged


class LeadInput(TypedDict):
    """What a caller sends: one inbound item in the SPEC §8 format."""

    item: dict[str, Any]


class LeadState(TypedDict, total=False):
    item: dict[str, Any]
    workflow_id: str  # = the thread id, "LEAD-…"
    lead_id: str  # canonical CRM lead id (differs from workflow_id for a duplicate)
    ingested_at: str
    lead: dict[str, Any]  # the standardised record (SPEC §3)
    lead_text: str  # everything the lead wrote, for evidence
    account: dict[str, Any]  # CRM account id / owner seen at capture
    enrichment: dict[str, Any]
    bant: dict[str, Any]
    assignment: dict[str, Any] | None
    sla: dict[str, Any] | None
    engagement: dict[str, Any]  # {"level": 0-4, "events": [...]} while following up
    outreach: dict[str, Any]  # the chosen first-email variant and why
    status: str | None
    status_reason: str | None
    flags: Annotated[list[str], merge_flags]
    messages: Annotated[list[dict[str, Any]], append_messages]
    # One entry per step run, in order. Kept as one channel (not separate trajectory /
    # last-step channels) because every channel a step writes is a row per checkpoint.
    steps: Annotated[list[StepResult], operator.add]
    outcome: dict[str, Any]  # the SPEC §8 outcome record, set when the lead settles
    # The promoted conversion model's score (leadflow/scoring/live.py), set when the
    # supervisor hands a routed lead to its disposition; absent while no model is promoted.
    conversion: dict[str, Any] | None
    # A repeat inquiry from this lead (same email), merged into its thread (leadflow/repeat.py):
    # {"item", "fingerprint", "workflow_id" (the repeat item's own), "received_at", and after
    # capture "text": the newest message alone, which qualification lets win). Set while
    # the repeat pass runs and kept after it; `touches` lists every fingerprint merged, so a
    # replayed hand-off merges nothing twice.
    touch: dict[str, Any] | None
    touches: Annotated[list[str], merge_flags]


def last_step(state: LeadState | dict[str, Any]) -> StepResult | None:
    steps = state.get("steps") or []
    return steps[-1] if steps else None


def trajectory(state: LeadState | dict[str, Any]) -> list[str]:
    """Agent names in the order they ran (SPEC §8)."""
    return [s["agent"] for s in state.get("steps") or []]
