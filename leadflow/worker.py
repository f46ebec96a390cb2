"""Distributed workers (SPEC §7 swarm) on Celery with the Redis broker.

`leadflow worker` starts a Celery worker; `leadflow run --distributed` and POST /leads (with
`LEADFLOW_DISTRIBUTED=1`) enqueue one task per item. Workers on any number of machines share
one PostgreSQL database (CRM + checkpoints).

Exactly-once effects come from three layers, none of them a home-made queue:
- late acks (`task_acks_late`, `task_reject_on_worker_lost`): a task is acknowledged only
  after the lead is settled, so a worker that dies mid-lead leaves it to be redelivered;
- the lead's checkpointed thread (thread id = lead id): a redelivered or resubmitted item
  resumes or reads back its thread instead of starting over;
- unique keys on every CRM write (lead, assignment, notification dedupe key) and a per-lead
  Redis lock, so two deliveries of one lead never run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any, TypeVar

from celery import Celery, Task
from redis import Redis
from redis.exceptions import LockError

from leadflow.identity import workflow_id_for
from leadflow.settings import Settings, WorkerSettings
from leadflow.tools.crm import INTAKE

log = logging.getLogger(__name__)
T = TypeVar("T")
QUEUE = "leadflow.leads"
TASK = "leadflow.process_lead"


def broker_url() -> str:
    return WorkerSettings.from_env().broker_url


def make_celery() -> Celery:
    app = Celery("leadflow", broker=broker_url())
    settings = WorkerSettings.from_env()
    visibility = settings.visibility_timeout_s
    app.conf.update(
        task_default_queue=QUEUE,
        task_serializer="json", accept_content=["json"],
        task_ignore_result=True,
        # Acknowledge after the work, and hand a lost worker's task to another one.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A message unacknowledged this long (its worker vanished) is delivered again.
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1.0, visibility / 10),
            "unacked_restore_throttle": 1,
            # kombu puts it before each key it writes: queues, unacked, bindings, mutexes
            "global_keyprefix": settings.key_prefix,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


celery_app = make_celery()


class WorkerRuntime:
    """One per worker process: an event loop on a thread holding the toolbox, the
    checkpointer and the compiled graph, opened once and reused by every task."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="leadflow-loop",
                                        daemon=True)
        self._thread.start()
        self._stack = AsyncExitStack()
        self.redis = Redis.from_url(broker_url())
        self.run(self._open())

    async def _open(self) -> None:
        from leadflow.runtime import open_runtime

        opened = await self._stack.enter_async_context(open_runtime(self.settings))
        self.tools, self.runner = opened.tools, opened.runner

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.run(self._stack.aclose())  # closes the checkpointer and the CRM
        self.loop.call_soon_threadsafe(self.loop.stop)


_runtime: WorkerRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> WorkerRuntime:
    """Opened lazily in the process that runs tasks (after Celery's fork, never before)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = WorkerRuntime()
        return _runtime


@celery_app.task(name=TASK, bind=True, max_retries=None, acks_late=True)
def process_lead(self: Task, item: dict[str, Any]) -> dict[str, Any]:
    """Run (or resume, or read back) one lead; retried later while a twin delivery of the
    same lead holds its lock."""
    rt = runtime()
    lead_id = workflow_id_for(item, None)
    settings = WorkerSettings.from_env()
    lock = rt.redis.lock(f"{settings.key_prefix}leadflow:lead-lock:{lead_id}",
                         timeout=settings.lead_lock_s, blocking=False)
    if not lock.acquire():
        raise self.retry(countdown=1.0)
    try:
        outcome, how = rt.run(rt.runner.process(item))
        rt.tools.crm.resolve(INTAKE, lead_id, rt.tools.clock.now(),
                             f"{how}: {outcome['status']}")
    finally:
        with contextlib.suppress(LockError):  # expired while we worked: nothing to release
            lock.release()
    return {"lead_id": lead_id, "status": outcome["status"], "how": how}


def enqueue(items: list[dict[str, Any]]) -> list[str]:
    """Send items to the workers (each once per call); returns their lead ids. Each is
    first written to the CRM's intake queue, so what was accepted is on record even before
    a worker picks it up."""
    from leadflow.toolbox import toolbox_for

    ids = [workflow_id_for(item, None) for item in items]
    tools = toolbox_for(Settings.from_env().database_url)
    tools.crm.record_intake(list(zip(ids, items, strict=True)), "sent to the workers",
                            tools.clock.now())
    send(items)
    return ids


def send(items: list[dict[str, Any]]) -> None:
    """One task per item on the leads queue (the API records intake itself, then sends)."""
    for item in items:
        lead_id = workflow_id_for(item, None)
        process_lead.apply_async(args=[item], task_id=f"{lead_id}:{os.urandom(4).hex()}")
