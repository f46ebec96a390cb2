"""A repeat inquiry: an item from a lead the CRM already knows (same email address).

The item's own thread stops at capture (a duplicate, `on_duplicate` in workflow.yaml); the
item is then merged into the known lead's own thread, so one lead keeps one thread, one
trajectory and one follow-up clock, and `followup`/`review` keep finding it by lead id:

- the lead's thread had ended (nurture, marketing, routed, escalated): it runs again from
  the workflow's start on both messages (`touch` in the state): re-qualified, then routed if
  it rose to hot/warm and nobody owns it, re-queued if not, its owner told if it has one;
- it waits for engagement (a rep follows it up): the wait wakes on the inquiry, the lead is
  re-qualified, its owner is told, and the wait goes on;
- it waits for a person's review: operations are told of the new message; the reviewer
  decides on the lead as it is.

Every path is idempotent: the thread records each merged item's fingerprint (`touches`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from leadflow.checkpoint import compact_thread
from leadflow.context import LeadflowContext
from leadflow.followup import pending_wait
from leadflow.graph.nodes import SUPERVISOR_NODE
from leadflow.identity import item_fingerprint, thread_config
from leadflow.review import pending_review
from leadflow.settings import Durability
from leadflow.toolbox import Toolbox
from leadflow.tools.crm.leases import held_lead
from leadflow.tools.ingest import item_text
from leadflow.tools.notifier import Notice

# A run of the known lead's thread that stopped mid-way (a crash) is finished first.
_PASSES = 3


async def merge_into_lead(graph: CompiledStateGraph[Any, Any, Any, Any], tools: Toolbox,
                          item: object, workflow_id: str, lead_id: str, *,
                          context: LeadflowContext | None, durability: Durability) -> Any:
    """Merge the repeat item into lead `lead_id`'s thread (see the module docstring);
    returns that thread's snapshot afterwards."""
    config: RunnableConfig = thread_config(lead_id)
    fingerprint = item_fingerprint(item)
    touch = {"item": item, "fingerprint": fingerprint, "workflow_id": workflow_id,
             "merged_at": tools.clock.now().isoformat()}

    async def run(value: Any) -> None:
        await graph.ainvoke(value, config, context=context, durability=durability)

    async with held_lead(tools.crm, lead_id):  # the lead's own runs wait, and vice versa
        for _ in range(_PASSES):
            snapshot = await graph.aget_state(config)
            if not snapshot.values:
                return snapshot  # no thread for the lead here (its CRM row came from elsewhere)
            merged = fingerprint in (snapshot.values.get("touches") or [])
            if (request := pending_review(snapshot)) is not None:
                if not merged:
                    await asyncio.to_thread(_tell_reviewers, tools, lead_id, item, fingerprint,
                                            request)
                return snapshot
            if pending_wait(snapshot) is not None:
                if merged:
                    return snapshot
                await run(Command(resume={"touch": touch}))
            elif snapshot.next:
                await run(None)  # a run that stopped mid-way: finish it, then merge
            elif merged:
                return snapshot
            else:
                await run(Command(goto=SUPERVISOR_NODE, update={"touch": touch}))
        await compact_thread(graph.checkpointer, lead_id)
        return await graph.aget_state(config)


def _tell_reviewers(tools: Toolbox, lead_id: str, item: object, fingerprint: str,
                    request: dict[str, Any]) -> None:
    tools.notifier.send(
        Notice(audience="operations",
               subject=f"[manual_review] {lead_id} wrote again while waiting for review",
               body=f"Waiting for: {request.get('question')}\nNew message:\n"
                    f"{item_text(item)[:2000]}"),
        lead_id=lead_id, step=f"repeat:{fingerprint}", now=tools.clock.now())
