"""The lead's graph state: a TypedDict with reducers, checkpointed after every step."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

Outcome = Literal["success", "failure", "duplicate"]


class StepResult(TypedDict, total=False):
    """How one workflow step ended; the supervisor reads it to pick the next edge."""

    outcome: Outcome
    decision: str | None  # e.g. the tier after qualification, "rep" after routing
    error: str | None
    failure_kind: Literal["data", "timeout", "error"] | None  # who hears about it (SPEC §6)
    notes: str  # processing notes handed to the next agent
    retries: int
    started_at: str
    duration_ms: float


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


def merge_steps(
    left: dict[str, StepResult] | None, right: dict[str, StepResult] | None
) -> dict[str, StepResult]:
    return {**(left or {}), **(right or {})}


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
    status: str | None
    status_reason: str | None
    decided_by: dict[str, str]  # step → rules | llm | human
    flags: Annotated[list[str], merge_flags]
    trajectory: Annotated[list[str], operator.add]
    messages: Annotated[list[dict[str, Any]], append_messages]
    steps: Annotated[dict[str, StepResult], merge_steps]
    last_step: str | None
    outcome: dict[str, Any]  # the SPEC §8 outcome record, set when the lead settles
