"""Two `leadflow worker` processes (Celery on Redis, CRM and checkpoints in one PostgreSQL
schema) take 600 leads, 50 of them sent twice; one worker is killed with SIGKILL, process
group and all, a third of the way through, and a replacement started. The killed worker's
unacknowledged task comes back after the visibility timeout and resumes its lead's thread:
every lead settles once, with one CRM lead, at most one assignment and no notification
twice, including the leads that were sent twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from leadflow.identity import workflow_id_for
from leadflow.tools.crm import CrmStore, Lead, QueueItem
from leadflow.worker import QUEUE
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
REDIS_DB = int(os.environ.get("LEADFLOW_TEST_REDIS_DB", "7"))
ROOT = Path(__file__).resolve().parents[2]
ENQUEUE = ("import json, sys\nfrom leadflow.worker import enqueue\n"
           "enqueue(json.loads(open(sys.argv[1]).read()))\n")


@pytest.fixture
def broker() -> Iterator[str]:
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


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

    def kill(self, name: str) -> None:
        """SIGKILL the worker's whole group: the Celery parent and its pool children."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

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
        pg_schema: PgSchema, broker: str, tmp_path: Path) -> None:
    items = tagged_leads(LEADS, seed=77, prefix="WKILL")
    sent = [copy for item in items[:TWICE] for copy in (item, item)] + items[TWICE:]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(sent), encoding="utf-8")
    queue = redis.Redis.from_url(broker)
    with ScriptedLLM(delay_ms=20, lead_pattern=LEAD_REF) as llm:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_MODEL")}
        env.update(
            LEADFLOW_DATABASE_URL=pg_schema.url, LEADFLOW_BROKER_URL=broker,
            LEADFLOW_HOME=str(tmp_path / "home"), LEADFLOW_MODEL="openai:scripted-workers",
            OPENAI_BASE_URL=llm.url, OPENAI_API_KEY="scripted", LEADFLOW_LLM_TIMEOUT_S="10",
            LEADFLOW_TASK_VISIBILITY_TIMEOUT="10", LEADFLOW_LEAD_LOCK_SECONDS="8")
        workers = Workers(env, tmp_path)
        crm: CrmStore | None = None
        try:
            workers.start("a")
            workers.start("b")
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", ENQUEUE, str(batch)], cwd=ROOT, env=env,
                           check=True, timeout=120, capture_output=True)
            crm = CrmStore(pg_schema.url)
            in_flight = wait_then_kill(crm, workers, LEADS, started)
            workers.start("c")
            wait_until_drained(crm, queue, workers, deadline=started + 300)
            seconds = time.monotonic() - started
            workers.stop()
            figures = audit_crm(crm, items, "worker SIGKILL mid-batch")
            resolutions = intake_resolutions(crm)
            fell_back = sum(1 for row in _outcomes(crm) if "processing_error" in row)
        finally:
            workers.stop()
            if crm is not None:
                crm.close()
            queue.close()
    resumed = sum(1 for note in resolutions.values() if note.startswith("resumed"))
    figures.retries = f"{len(in_flight)} in flight at the kill, {resumed} resumed"
    figures.seconds = seconds
    REPORT.append(figures)

    figures.assert_clean()
    assert fell_back == 0
    # every lead was settled by a worker and its intake item closed with how it went
    assert set(resolutions) == {workflow_id_for(item, None) for item in items}
    assert all(note.split(":")[0] in ("processed", "resumed", "already_done")
               for note in resolutions.values()), set(resolutions.values())
    # the kill caught leads half-done (captured, not settled); each was finished since (a
    # task lost with the worker would have left its intake item open)
    assert in_flight, "the kill caught no lead in flight"
    assert in_flight <= set(resolutions)


def wait_then_kill(crm: CrmStore, workers: Workers, total: int, started: float) -> set[str]:
    """Kill worker `a` once KILL_AT of the leads are done; the leads in flight (captured,
    not yet settled) at that moment."""
    while time.monotonic() - started < 200:
        done = total - crm.queue_counts()["intake"]
        if done >= KILL_AT * total:
            workers.kill("a")
            with crm.engine.connect() as conn:
                return set(conn.execute(select(Lead.id).where(Lead.status.is_(None))).scalars())
        if any(p.poll() is not None for p in workers.procs.values()):
            raise AssertionError(f"a worker died on its own:\n{workers.tail()}")
        time.sleep(0.2)
    raise AssertionError(f"the workers made no progress:\n{workers.tail()}")


def wait_until_drained(crm: CrmStore, queue: redis.Redis, workers: Workers,
                       deadline: float) -> None:
    """Until no intake item is open and the broker holds no message, delivered or not."""
    while time.monotonic() < deadline:
        if (crm.queue_counts()["intake"] == 0 and queue.llen(QUEUE) == 0
                and queue.hlen("unacked") == 0):
            return
        time.sleep(0.5)
    raise AssertionError(f"not drained: {crm.queue_counts()}, queue={queue.llen(QUEUE)}, "
                         f"unacked={queue.hlen('unacked')}\n{workers.tail()}")


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
