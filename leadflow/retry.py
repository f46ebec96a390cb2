"""A second look at leads the LLM could not see (SPEC §6 API/LLM failure: "cache the item,
retry later"). Those leads were decided by rules and parked in `retry_later`; `leadflow
retry` asks the LLM again. Agreement closes the item; disagreement never silently moves a
lead that may already be with a rep — it opens a manual-review item for sales operations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from leadflow.agents.base import Agent, StepOutput
from leadflow.context import LeadflowContext
from leadflow.graph.nodes import LLM_UNAVAILABLE
from leadflow.identity import thread_config
from leadflow.llm import RULES
from leadflow.toolbox import Toolbox
from leadflow.tools.notifier import Notice


@dataclass(frozen=True)
class RetryResult:
    lead_id: str
    step: str
    result: str  # agreed | disagreed | still_unavailable | no_checkpoint
    detail: str
    # the second look's LLM calls (they are not in the lead's decisions: the lead is not
    # moved), for `leadflow retry`'s tokens and cost
    model: str = RULES
    usage: dict[str, int] | None = None
    usage_by_model: dict[str, dict[str, int]] | None = None

    def as_decision(self) -> dict[str, Any]:
        """The usage fields in a decision's shape (llm.batch_usage prices them)."""
        return {"model": self.model, "usage": self.usage,
                "usage_by_model": self.usage_by_model}


def _compare(step: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    """What the LLM's second look changes, or None when it agrees."""
    if step == "qualification":
        old, new = (before.get("bant") or {}).get("tier"), (after.get("bant") or {}).get("tier")
        return None if old == new else f"tier {old} → {new}"
    if step == "capture":
        old = (before.get("lead") or {}).get("contact") or {}
        new = (after.get("lead") or {}).get("contact") or {}
        changed = [k for k in ("email", "phone", "first_name", "last_name", "title")
                   if new.get(k) and new.get(k) != old.get(k)]
        return None if not changed else "contact " + ", ".join(
            f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in changed)
    return None  # enrichment: a fresh summary, nothing that moves the lead


def _looked(lead_id: str, step: str, result: str, detail: str, out: StepOutput) -> RetryResult:
    return RetryResult(lead_id, step, result, detail, out.model, out.usage, out.usage_by_model)


async def retry_parked(graph: CompiledStateGraph[Any, Any, Any, Any], tools: Toolbox,
                       agents: Mapping[str, Agent], run: LeadflowContext,
                       limit: int = 500) -> list[RetryResult]:
    results = []
    for item in await asyncio.to_thread(tools.crm.queue_items, "retry_later", limit):
        lead_id, step = item["lead_id"], (item.get("payload") or {}).get("step", "")
        snapshot = await graph.aget_state(thread_config(lead_id))
        state = dict(snapshot.values or {})
        if not state or step not in agents:
            results.append(RetryResult(lead_id, step, "no_checkpoint",
                                       "no checkpoint for this lead; left queued"))
            continue
        out = await agents[step].run(state, tools, run)  # type: ignore[arg-type]
        now = tools.clock.now()
        if out.decided_by != "llm" or LLM_UNAVAILABLE & set(out.flags):
            results.append(_looked(lead_id, step, "still_unavailable",
                                   out.notes or "LLM still unavailable; left queued", out))
            continue
        change = _compare(step, state, {**state, **out.update})
        if change is None:
            await asyncio.to_thread(tools.crm.resolve, "retry_later", lead_id, now,
                                    f"LLM agreed with the rules ({out.model})")
            results.append(_looked(lead_id, step, "agreed", "LLM agrees with the rules", out))
            continue
        reason = f"LLM second look disagrees with the rules at {step}: {change}"
        await asyncio.to_thread(tools.crm.resolve, "retry_later", lead_id, now, reason)
        await asyncio.to_thread(tools.crm.enqueue, "manual_review", lead_id, reason, now,
                                {"step": step, "llm": out.update.get("bant") or
                                 out.update.get("lead")})
        await asyncio.to_thread(tools.notifier.send, Notice(
            audience="sales_operations", subject=f"Review {lead_id}: {change}", body=reason),
            lead_id=lead_id, step=f"{step}:retry", now=now)
        results.append(_looked(lead_id, step, "disagreed", reason, out))
    return results
