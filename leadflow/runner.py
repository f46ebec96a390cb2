"""Batch processing: every item is one checkpointed thread (thread id = lead id), so a
killed batch run again finishes the unfinished leads and never redoes finished ones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import sqlalchemy.exc
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from leadflow.checkpoint import compact_thread
from leadflow.context import LeadflowContext
from leadflow.followup import pending_wait
from leadflow.identity import thread_config, workflow_id_for
from leadflow.outcome import error_outcome, outcome_of, outcome_record
from leadflow.repeat import merge_into_lead
from leadflow.review import pending_review, waiting_outcome
from leadflow.settings import BATCH_DURABILITY, Durability
from leadflow.state import merge_flags
from leadflow.toolbox import Toolbox
from leadflow.tools.crm.leases import held_lead
from leadflow.tools.crm_reads import INTAKE
from leadflow.tools.ingest import item_excerpt, storable_item

__all__ = ["BATCH_DURABILITY", "BatchRunner", "Durability", "thread_outcome"]


# A lead whose database connection dropped is resumed from its checkpoint up to this many
# times in all (backoff DB_BACKOFF_S, doubling, with jitter) before it goes to manual review.
DB_ATTEMPTS = 4
DB_BACKOFF_S = 0.2


def is_transient_db_error(exc: BaseException) -> bool:
    """A lost, refused or invalidated database connection (psycopg's, or SQLAlchemy's
    wrapping of one): worth another attempt, unlike a bug or a bad row."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, psycopg.OperationalError):  # also the pool's PoolTimeout
            return True
        if isinstance(seen, sqlalchemy.exc.DBAPIError) and (
                seen.connection_invalidated or isinstance(seen, sqlalchemy.exc.OperationalError)):
            return True
        seen = seen.__cause__
    return False


def thread_outcome(snapshot: Any) -> tuple[dict[str, Any], str] | None:
    """What a lead's thread already says, as (outcome, how): settled (`already_done`),
    paused for a person (`awaiting_review`) or for engagement (`awaiting_followup`);
    None while it still has work to do."""
    if snapshot.values.get("outcome") and not snapshot.next:
        return outcome_of(snapshot.values), "already_done"
    if (request := pending_review(snapshot)) is not None:
        return waiting_outcome(dict(snapshot.values), request), "awaiting_review"
    if pending_wait(snapshot) is not None:
        return outcome_record(dict(snapshot.values)), "awaiting_followup"
    return None


class BatchRunner:
    def __init__(self, graph: CompiledStateGraph[Any, Any, Any, Any], tools: Toolbox,
                 durability: Durability = BATCH_DURABILITY,
                 context: LeadflowContext | None = None) -> None:
        self.graph = graph
        self.tools = tools
        self.durability = durability
        self.context = context
        self.db_retries = 0  # leads resumed after a dropped database connection

    async def process(self, item: object) -> tuple[dict[str, Any], str]:
        """Run (or resume, or just read) one item; returns (outcome, how) where how is
        processed | resumed | already_done | error.

        A dropped database connection (the checkpointer's or the CRM's) does not condemn
        the lead: its thread is resumed from its last checkpoint, a few times with backoff
        and jitter (every step's side effects are idempotent, so a replayed step is safe)."""
        item = storable_item(item)  # lone surrogates or 100-digit ints fail a checkpoint write
        workflow_id = workflow_id_for(item, None)
        config: RunnableConfig = thread_config(workflow_id)
        for attempt in range(1, DB_ATTEMPTS + 1):
            try:
                async with held_lead(self.tools.crm, workflow_id):  # one runner per lead
                    outcome, how = await self._process_once(item, config)
                    if "duplicate" in (outcome.get("flags") or []):
                        outcome = await self._merge_repeat(item, workflow_id, outcome)
                    # a thread this call only read was compacted when it last stopped
                    if how in ("processed", "resumed"):
                        await compact_thread(self.graph.checkpointer, workflow_id)
                    return outcome, how
            except Exception as exc:  # noqa: BLE001 — one bad lead must not stop the batch
                if attempt < DB_ATTEMPTS and is_transient_db_error(exc):
                    self.db_retries += 1
                    await asyncio.sleep(DB_BACKOFF_S * 2 ** (attempt - 1)
                                        * random.uniform(0.5, 1.5))
                    continue
                reason = f"processing error: {type(exc).__name__}: {exc}"[:500]
                await asyncio.to_thread(self.tools.crm.hold_for_review, workflow_id, reason,
                                        self.tools.clock.now(),
                                        {"item": item_excerpt(item, 2000)})
                return error_outcome(item, workflow_id, reason), "error"
        raise AssertionError("unreachable: the last attempt returns")

    async def _process_once(self, item: object,
                            config: RunnableConfig) -> tuple[dict[str, Any], str]:
        """One attempt: read the thread, then start it, resume it or report where it waits."""
        snapshot = await self.graph.aget_state(config)
        if (known := thread_outcome(snapshot)) is not None:
            return known
        # A thread with a checkpoint goes on from it. Its `next` is empty when every task of
        # its last step had stored its writes but the checkpoint after them was lost (a cut
        # connection): given the item again, the supervisor would start over on a lead it
        # had already begun; resumed, LangGraph applies those writes and goes on.
        started = snapshot.created_at is not None
        how = "resumed" if started else "processed"
        result: dict[str, Any] = await self.graph.ainvoke(
            None if started else {"item": item}, config,
            context=self.context, durability=self.durability,
        )
        if "__interrupt__" in result:
            # Read the pause from the run's own result: re-reading the thread right away
            # can miss the interrupt's pending write (seen with the Postgres saver).
            paused = SimpleNamespace(interrupts=result["__interrupt__"])
            values = {k: v for k, v in result.items() if k != "__interrupt__"}
            request = pending_review(paused)
            if request is not None:
                return waiting_outcome(values, request), how
            if pending_wait(paused) is not None:
                return outcome_record(values), how
        return outcome_of(result), how

    async def _merge_repeat(self, item: object, workflow_id: str,
                            seen: dict[str, Any]) -> dict[str, Any]:
        """A repeat inquiry: merged into the known lead's thread (leadflow/repeat.py); the
        item's outcome is then that lead's, as it stands, flagged as this item's repeat, with
        `item_decisions`: the item's own thread's steps (its capture, which may have asked the
        LLM), which are in no lead's `decisions`."""
        snapshot = await merge_into_lead(self.graph, self.tools, item, workflow_id,
                                         seen["lead_id"], context=self.context,
                                         durability=self.durability)
        known = thread_outcome(snapshot)
        if known is None:
            return seen
        current = known[0]
        return {**current, "source_id": seen.get("source_id"),
                "flags": merge_flags(current.get("flags"), ["duplicate", "repeat_inquiry"]),
                "item_decisions": seen.get("decisions") or []}

    async def run(
        self,
        items: Iterable[object],
        out: Path | None = None,
        concurrency: int = 1,
        on_done: Callable[[dict[str, Any], str], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Process items with bounded concurrency; outcomes are written to `out` in input
        order (rewritten from the checkpoints on a re-run, so never duplicated)."""
        items = list(items)
        semaphore = asyncio.Semaphore(max(1, concurrency))
        results: list[dict[str, Any] | None] = [None] * len(items)

        async def one(index: int, item: object) -> None:
            async with semaphore:
                outcome, how = await self.process(item)
            results[index] = outcome
            if on_done:
                on_done(outcome, how)

        handle = out.open("w", encoding="utf-8") if out else None
        try:
            tasks = [asyncio.create_task(one(i, it)) for i, it in enumerate(items)]
            written = 0
            for task in asyncio.as_completed(tasks):
                await task
                while handle and written < len(results) and results[written] is not None:
                    handle.write(json.dumps(results[written], ensure_ascii=False,
                                            default=str) + "\n")
                    handle.flush()
                    written += 1
        finally:
            if handle:
                handle.close()
        return [r for r in results if r is not None]


class IntakeTasks:
    """Items already durable in the intake queue, each run once in the background (at most
    `concurrency` at a time) and its intake row resolved when it ends: what `POST /leads`
    and `leadflow watch` share. An item already in flight is not started twice."""

    def __init__(self, runner: BatchRunner, tools: Toolbox, *, concurrency: int,
                 on_done: Callable[[str, dict[str, Any], str], None] | None = None) -> None:
        self.runner = runner
        self.tools = tools
        self.on_done = on_done
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def __contains__(self, lead_id: object) -> bool:
        return lead_id in self._tasks

    def start(self, lead_id: str, item: dict[str, Any]) -> None:
        if lead_id in self._tasks:  # the same item twice in flight: one run is enough
            return
        task = asyncio.create_task(self._process(lead_id, item), name=f"lead {lead_id}")
        self._tasks[lead_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(lead_id, None))

    def resume(self, rows: Iterable[dict[str, Any]]) -> None:
        """Start the intake rows' items (rows accepted before a restart)."""
        for row in rows:
            item = (row.get("payload") or {}).get("item")
            if isinstance(item, dict):
                self.start(row["lead_id"], item)

    async def _process(self, lead_id: str, item: dict[str, Any]) -> None:
        async with self._slots:
            outcome, how = await self.runner.process(item)
        await asyncio.to_thread(self.tools.crm.resolve, INTAKE, lead_id, self.tools.clock.now(),
                                f"{how}: {outcome['status']}")
        if self.on_done is not None:
            self.on_done(lead_id, outcome, how)

    async def drain(self, timeout: float | None) -> None:
        """Let the leads in flight finish (or `timeout`); the rest resume on the next start."""
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
