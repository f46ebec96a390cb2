"""What the HTTP API does, apart from HTTP: accept leads durably, process them in the
background with bounded concurrency, read outcomes back, and resume paused threads.

Accepting writes the item to the CRM's `intake` queue before the caller hears "accepted", so
a server that dies before the graph's first checkpoint still finishes the lead on restart."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver

from leadflow.followup import Wake, wake_lead
from leadflow.identity import thread_config, workflow_id_for
from leadflow.meetings import book, lead_slots
from leadflow.review import ReviewDecision, decide_review, pending_review
from leadflow.runner import IntakeTasks, thread_outcome
from leadflow.runtime import Runtime
from leadflow.tools.crm import INTAKE
from leadflow.tools.erasure import ErasureReport, forget
from leadflow.tools.ingest import storable_item

log = logging.getLogger(__name__)


class LeadService:
    def __init__(self, runtime: Runtime, *, concurrency: int = 8,
                 distributed: bool = False) -> None:
        self.graph = runtime.graph
        self.tools = runtime.tools
        self.context = runtime.context
        self.distributed = distributed  # leads go to `leadflow worker`s through Celery
        self.runner = runtime.runner
        self.intake = IntakeTasks(runtime.runner, runtime.tools, concurrency=concurrency)

    # ------------------------------------------------------------------ intake
    async def accept(self, items: list[dict[str, Any]]) -> list[str]:
        """Record every item durably, start processing, return their lead ids at once.

        Each item is first put in the form every store holds (`storable_item`: a lone
        surrogate becomes U+FFFD, an integer beyond 64 bits its digits), which is the form
        the runner derives the lead id from: the id returned is the one that resolves."""
        now = self.tools.clock.now()
        items = [storable_item(item) for item in items]
        ids = [workflow_id_for(item, None) for item in items]
        await asyncio.to_thread(self.tools.crm.record_intake, list(zip(ids, items, strict=True)),
                                "accepted by the API", now)
        if self.distributed:
            from leadflow.worker import send

            await asyncio.to_thread(send, items)
            return ids
        for lead_id, item in zip(ids, items, strict=True):
            self.intake.start(lead_id, item)
        return ids

    async def resume_intake(self) -> int:
        """On start-up: finish whatever was accepted but not finished before a restart
        (distributed: the broker still holds those tasks, the workers finish them)."""
        if self.distributed:
            return 0
        pending = await asyncio.to_thread(self.tools.crm.queue_items, INTAKE, 100_000)
        self.intake.resume(pending)
        return len(pending)

    def in_flight(self, lead_id: str) -> bool:
        return lead_id in self.intake

    async def drain(self, timeout: float) -> None:
        """Give running leads a moment to finish at shutdown; the rest resume on restart."""
        await self.intake.drain(timeout)

    # ------------------------------------------------------------------ reading
    async def view(self, lead_id: str) -> dict[str, Any] | None:
        """Outcome + message log + trajectory; status `processing` while in flight."""
        config: RunnableConfig = thread_config(lead_id)
        snapshot = await self.graph.aget_state(config)
        values = dict(snapshot.values or {})
        review = pending_review(snapshot)
        if (known := thread_outcome(snapshot)) is not None:
            outcome = known[0]
        elif self.in_flight(lead_id) or (await asyncio.to_thread(
                self.tools.crm.open_queue_item, INTAKE, lead_id)) is not None:
            return {"lead_id": lead_id, "status": "processing", "outcome": None,
                    "messages": list(values.get("messages") or []),
                    "trajectory": [], "review": None}
        else:
            row = await asyncio.to_thread(self.tools.crm.get_lead, lead_id)
            if row is not None and row.get("outcome"):
                outcome = row["outcome"]
            else:  # the graph could not finish it: filed for a person
                filed = await asyncio.to_thread(self.tools.crm.open_queue_item,
                                                "manual_review", lead_id)
                if filed is None:
                    return None
                return {"lead_id": lead_id, "status": "manual_review", "outcome": None,
                        "messages": [], "trajectory": [],
                        "review": {"reason": filed["reason"]}}
        canonical = outcome.get("lead_id") or lead_id
        messages = await asyncio.to_thread(self.tools.crm.messages_for, canonical)
        return {"lead_id": lead_id, "status": outcome["status"], "outcome": outcome,
                "messages": messages or outcome.get("messages") or [],
                "trajectory": outcome.get("trajectory") or [], "review": review}

    # ------------------------------------------------------------------ resuming
    async def review_request(self, lead_id: str) -> dict[str, Any] | None:
        snapshot = await self.graph.aget_state(thread_config(lead_id))
        return pending_review(snapshot)

    async def decide(self, lead_id: str, decision: ReviewDecision) -> dict[str, Any]:
        return await decide_review(self.graph, self.tools, lead_id, decision, self.context)

    async def engagement(self, lead_id: str, wake: Wake) -> dict[str, Any]:
        return await wake_lead(self.graph, lead_id, wake, self.tools, self.context)

    # ------------------------------------------------------------------ meetings
    async def slots(self, lead_id: str) -> dict[str, Any]:
        return await lead_slots(self.graph, self.tools, lead_id)

    async def book(self, lead_id: str, start: datetime) -> dict[str, Any]:
        return await book(self.graph, self.tools, lead_id, start, self.context)

    # ------------------------------------------------------------------ erasing
    async def forget(self, email: str, requested_by: str) -> ErasureReport | None:
        """Erase the person with this address (leadflow/tools/erasure.py); None: unknown."""
        saver = self.graph.checkpointer
        if not isinstance(saver, BaseCheckpointSaver):
            raise RuntimeError("the API's graph has no checkpointer to erase threads from")
        return await forget(self.tools.crm, saver, email, requested_by=requested_by,
                            now=self.tools.clock.now(), calendars=self.tools.calendar,
                            notifier=self.tools.notifier)
