"""The compiled graph behind a LangServe-compatible surface (/graph/invoke, /batch, /stream,
/input_schema, /output_schema) for apps built on LangServe's `RemoteRunnable`.

A plain `add_routes(app, graph)` would run every call on a throw-away thread. Here each
item runs on its lead's own checkpointed thread (thread id = lead id), exactly as the CLI and
POST /leads do: a resent item reads back its outcome instead of being processed twice, and
a lead paused for review or follow-up is the same thread the review and event routes resume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.types import StreamMode
from pydantic import BaseModel, ConfigDict

from leadflow.api.schemas import InboundItem
from leadflow.api.service import LeadService
from leadflow.identity import thread_config, workflow_id_for
from leadflow.tools.crm.leases import held_lead
from leadflow.tools.ingest import storable_item


class OutcomeRecord(BaseModel):
    """The SPEC §8 outcome record of one lead."""

    model_config = ConfigDict(extra="allow")
    lead_id: str
    status: str
    status_reason: str | None = None
    contact: dict[str, Any] | None = None
    company: dict[str, Any] | None = None
    bant: dict[str, Any] | None = None
    assignment: dict[str, Any] | None = None
    flags: list[str] = []
    trajectory: list[str] = []
    messages: list[dict[str, Any]] = []


def _item(value: Any) -> dict[str, Any]:
    """The item in the form the runner stores and derives the lead id from
    (`storable_item`), so the streamed thread is the lead's own thread."""
    if isinstance(value, BaseModel) and not isinstance(value, InboundItem):
        value = value.model_dump(by_alias=True, exclude_unset=True)
    item = value if isinstance(value, InboundItem) else InboundItem.model_validate(value)
    stored: dict[str, Any] = storable_item(item.as_item())
    return stored


class LeadGraphRunnable(Runnable[InboundItem, Any]):
    """One inbound item in, its outcome record out; streaming yields the graph's per-node
    updates as they happen, then the outcome."""

    def __init__(self, service_of: Callable[[], LeadService]) -> None:
        self._service_of = service_of  # the service exists once the app has started

    @property
    def service(self) -> LeadService:
        return self._service_of()

    @property
    def InputType(self) -> type[InboundItem]:  # noqa: N802 — LangChain's name
        return InboundItem

    @property
    def OutputType(self) -> type[OutcomeRecord]:  # noqa: N802 — LangChain's name
        return OutcomeRecord

    def invoke(self, input: InboundItem, config: RunnableConfig | None = None,
               **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError("the graph runs on the server's event loop: use ainvoke")

    async def ainvoke(self, input: InboundItem, config: RunnableConfig | None = None,
                      **kwargs: Any) -> dict[str, Any]:
        outcome, _how = await self.service.runner.process(_item(input))
        return outcome

    def stream(self, input: InboundItem, config: RunnableConfig | None = None,
               **kwargs: Any | None) -> Iterator[dict[str, Any]]:
        raise NotImplementedError("the graph runs on the server's event loop: use astream")

    async def astream(self, input: InboundItem, config: RunnableConfig | None = None,
                      **kwargs: Any | None) -> AsyncIterator[dict[str, Any]]:
        item = _item(input)
        lead_id = workflow_id_for(item, None)
        thread: RunnableConfig = thread_config(lead_id)
        async with held_lead(self.service.tools.crm, lead_id):  # one runner per lead
            snapshot = await self.service.graph.aget_state(thread)
            if not snapshot.values:  # new lead: stream its run node by node
                mode: StreamMode = "updates"
                try:
                    async for update in self.service.graph.astream(
                            {"item": item}, thread, stream_mode=mode,
                            context=self.service.context,
                            durability=self.service.runner.durability):
                        for node, values in (update or {}).items():
                            if not node.startswith("__"):
                                yield {"node": node, "lead_id": lead_id, **_step_view(values)}
                except Exception:  # noqa: BLE001 — the runner below files it (manual review)
                    pass
        outcome, _how = await self.service.runner.process(item)  # reads back, or finishes
        yield {"outcome": outcome}


def _step_view(values: Any) -> dict[str, Any]:
    """What a streaming client sees of one node's update: the step it finished and how."""
    if not isinstance(values, dict):
        return {}
    steps = values.get("steps") or []
    last = steps[-1] if steps else {}
    return {k: last.get(k) for k in ("step", "outcome", "decided_by", "decision") if k in last}
