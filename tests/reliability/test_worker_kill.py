"""Two `leadflow worker` processes (Celery on Redis, CRM and checkpoints in one PostgreSQL
schema) take 1,000 leads, 50 of them sent twice; once 30 % are done, one worker is frozen
(SIGSTOP) while a lead of its own is half-way through its graph, its leads in flight are
read from the CRM's lead leases, and it is killed with SIGKILL, process group and all; a
replacement is started. The killed worker's unacknowledged tasks come back after the
visibility timeout and resume their leads' threads from the last checkpoint: no step that
had run before the kill runs again (each step is scheduled from one checkpoint of the
thread, and the thread was started once). Every lead settles once, with one CRM lead, at
most one assignment and no notification twice, including the leads that were sent twice.

Redis is shared: the broker's keys carry this run's own prefix (tests/redis_keys.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from leadflow.checkpoint import open_checkpointer
from leadflow.graph import build_graph
from leadflow.graph.nodes import SUPERVISOR_NODE
from leadflow.identity import thread_config, workflow_id_for
from leadflow.tools.crm import CrmStore, Lead, QueueItem
from leadflow.tools.crm.schema import LeadLease
from leadflow.worker import QUEUE
from tests.redis_keys import BrokerKeys, broker_keys
from tests.reliability.conftest import (
    LEAD_REF,
    REPORT,
    PgSchema,
    audit_crm,
    tagged_leads,
)
from tests.scripted_llm import ScriptedLLM

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]

LEADS = 1000
TWICE = 50  # leads sent twice, the copies side by side in the queue
KILL_AT = 0.3  # share of leads done when one worker is killed
ROOT = Path(__file__).resolve().parents[2]
ENQUEUE = ("import json, sys\nfrom leadflow.worker import enqueue\n"
           "enqueue(json.loads(open(sys.argv[1]).read()))\n")


@pytest.fixture
def broker() -> Iterator[BrokerKeys]:
    with broker_keys("wkill") as keys:
        yield keys


class Workers:
    """`leadflow worker` processes, each in its own session (its own process group)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "leadflow.cli", "worker", "--concurrency", "2",
             "--loglevel", "WARNING", "--name", f"{name}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        return self.procs[name]

    def signal(self, name: str, sig: signal.Signals) -> None:
        """Send `sig` to the worker's whole group: the Celery parent and its pool children."""
        os.killpg(self.procs[name].pid, sig)

    def kill(self, name: str) -> None:
        self.signal(name, signal.SIGKILL)
        self.procs[name].wait(10)

    def pids(self, name: str) -> set[int]:
        """The processes of the worker's group (the parent and its pool children)."""
        group, found = self.procs[name].pid, set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:  # pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[2]) == group:
                found.add(int(stat.parent.name))
        return found

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                         for p in sorted(self.logs.glob("*.log")))


def test_a_killed_worker_loses_and_duplicates_nothing(
        pg_schema: PgSchema, broker: BrokerKeys, tmp_path: Path) -> None:
    items = tagged_leads(LEADS, seed=77, prefix="WKILL")
    sent = [copy for item in items[:TWICE] for copy in (item, item)] + items[TWICE:]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(sent), encoding="utf-8")
    queue = redis.Redis.from_url(broker.url)
    with ScriptedLLM(delay_ms=20, lead_pattern=LEAD_REF) as llm:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_MODEL")}
        env.update(
            LEADFLOW_DATABASE_URL=pg_schema.url, **broker.env,
            LEADFLOW_HOME=str(tmp_path / "home"), LEADFLOW_MODEL="openai:scripted-workers",
            OPENAI_BASE_URL=llm.url, OPENAI_API_KEY="scripted", LEADFLOW_LLM_TIMEOUT_S="10",
            LEADFLOW_TASK_VISIBILITY_TIMEOUT="10", LEADFLOW_LEAD_LOCK_SECONDS="8",
            # every checkpoint kept (not only a settled lead's last): the resume is read
            # from the threads' histories below
            LEADFLOW_CHECKPOINT_HISTORY="all")
        workers = Workers(env, tmp_path)
        crm: CrmStore | None = None
        try:
            workers.start("a")
            workers.start("b")
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", ENQUEUE, str(batch)], cwd=ROOT, env=env,
                           check=True, timeout=120, capture_output=True)
            crm = CrmStore(pg_schema.url)
            in_flight, killed_at = wait_then_kill(crm, workers, LEADS, started)
            workers.start("c")
            wait_until_drained(crm, queue, broker, workers, deadline=started + 300)
            seconds = time.monotonic() - started
            workers.stop()
            figures = audit_crm(crm, items, "worker SIGKILL mid-batch")
            resolutions = intake_resolutions(crm)
            fell_back = sum(1 for row in _outcomes(crm) if "processing_error" in row)
            threads = asyncio.run(histories(pg_schema.url, sorted(in_flight)))
        finally:
            workers.stop()
            if crm is not None:
                crm.close()
            queue.close()
    resumed = sorted(lead for lead in in_flight if resolutions[lead].startswith("resumed"))
    figures.retries = (f"{len(in_flight)} of the killed worker's leads in flight, "
                       f"{len(resumed)} resumed")
    figures.seconds = seconds
    REPORT.append(figures)

    figures.assert_clean()
    assert fell_back == 0
    # every lead was settled by a worker and its intake item closed with how it went
    assert set(resolutions) == {workflow_id_for(item, None) for item in items}
    assert all(note.split(":")[0] in ("processed", "resumed", "already_done")
               for note in resolutions.values()), set(resolutions.values())
    # the killed worker's own leads, caught half-way, were resumed by another worker
    # (`resumed`: its thread had steps still to run), from their checkpoint: each step of
    # the thread was scheduled from one checkpoint only (a restart would schedule the
    # first steps again from a second input checkpoint), and the steps run before the
    # kill are in checkpoints written before it
    assert resumed == sorted(in_flight), {lead: resolutions[lead] for lead in in_flight}
    for lead, history in threads.items():
        scheduled = Counter(node for snapshot in history for node in snapshot.next
                            if node != SUPERVISOR_NODE)
        assert scheduled and max(scheduled.values()) == 1, (lead, scheduled)
        before = [s for s in history if datetime.fromisoformat(s.created_at) < killed_at]
        ran_before = {node for s in before for node in s.next} - {SUPERVISOR_NODE}
        assert "capture" in ran_before, (lead, [(s.created_at, s.next) for s in history])
        # newest: settled, or waiting for engagement at its interrupt (a resume that only
        # reached the wait writes the interrupt onto the checkpoint it resumed from, so it
        # may add no checkpoint after the kill)
        newest = history[0]
        assert ((newest.values.get("outcome") and not newest.next)
                or newest.next == ("await_engagement",) and newest.interrupts), (
            lead, newest.next, newest.interrupts)


def wait_then_kill(crm: CrmStore, workers: Workers, total: int,
                   started: float) -> tuple[set[str], datetime]:
    """Once KILL_AT of the leads are done: freeze worker `a` (SIGSTOP), and if one of its
    processes holds the lease of a lead half-way through (captured, not settled), kill it;
    else let it go on and look again. The killed worker's leads in flight, and when it
    stopped (nothing of it ran after)."""
    while time.monotonic() - started < 200:
        if any(p.poll() is not None for p in workers.procs.values()):
            raise AssertionError(f"a worker died on its own:\n{workers.tail()}")
        if total - crm.queue_counts()["intake"] >= KILL_AT * total:
            workers.signal("a", signal.SIGSTOP)
            stopped = datetime.now(UTC)
            caught = half_done_leads(crm, workers.pids("a"))
            if caught:
                workers.kill("a")
                return caught, stopped
            workers.signal("a", signal.SIGCONT)  # between two leads: a moment later
            time.sleep(0.05)
            continue
        time.sleep(0.2)
    raise AssertionError(f"the workers made no progress:\n{workers.tail()}")


def half_done_leads(crm: CrmStore, pids: set[int]) -> set[str]:
    """Leads whose lease a process in `pids` holds (holder `host:pid:token`) and that are
    captured in the CRM but not settled."""
    with crm.engine.connect() as conn:
        rows = conn.execute(select(LeadLease.lead_id, LeadLease.holder, Lead.status)
                            .join(Lead, Lead.id == LeadLease.lead_id)).all()
    return {row.lead_id for row in rows
            if row.status is None and int(row.holder.rsplit(":", 2)[1]) in pids}


async def histories(url: str, leads: list[str]) -> dict[str, list[Any]]:
    """Each lead's checkpoint history, newest first."""
    async with open_checkpointer(url) as saver:
        graph = build_graph(saver)
        return {lead: [s async for s in graph.aget_state_history(thread_config(lead))]
                for lead in leads}


def wait_until_drained(crm: CrmStore, queue: redis.Redis, broker: BrokerKeys,
                       workers: Workers, deadline: float) -> None:
    """Until no intake item is open and the broker holds no message, delivered or not."""
    waiting, unacked = broker.key(QUEUE), broker.key("unacked")
    while time.monotonic() < deadline:
        if (crm.queue_counts()["intake"] == 0 and queue.llen(waiting) == 0
                and queue.hlen(unacked) == 0):
            return
        time.sleep(0.5)
    raise AssertionError(f"not drained: {crm.queue_counts()}, queue={queue.llen(waiting)}, "
                         f"unacked={queue.hlen(unacked)}\n{workers.tail()}")


def intake_resolutions(crm: CrmStore) -> dict[str, str]:
    """Lead id → how its worker settled it (`processed: routed`, `resumed: nurture`, …)."""
    with crm.engine.connect() as conn:
        rows = conn.execute(select(QueueItem.lead_id, QueueItem.payload)
                            .where(QueueItem.queue == "intake")).all()
    return {row.lead_id: str((row.payload or {}).get("resolution", "")) for row in rows}


def _outcomes(crm: CrmStore) -> list[Any]:
    with crm.engine.connect() as conn:
        return [(o or {}).get("flags") or [] for o in
                conn.execute(select(Lead.outcome)).scalars()]
