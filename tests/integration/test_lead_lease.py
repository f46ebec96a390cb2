"""One lead runs in one place at a time: two runners of the same items (two CLI runs, two
API workers) never run one thread side by side, and never invent a processing error."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadflow.data.synthetic import synthetic_leads
from leadflow.graph import build_graph
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import CrmStore, QueueItem
from leadflow.tools.crm.leases import held_lead, new_holder
from tests.conftest import OpenCheckpoints

pytestmark = pytest.mark.db_backends


def test_a_lease_has_one_holder_until_released_or_expired(tools: Toolbox) -> None:
    crm = tools.crm
    first, second = new_holder(), new_holder()
    assert crm.acquire_lease("LEAD-1", first, ttl_s=60)
    assert not crm.acquire_lease("LEAD-1", second, ttl_s=60)
    assert crm.acquire_lease("LEAD-2", second, ttl_s=60)  # other leads are free
    crm.release_lease("LEAD-1", second)  # not the holder: nothing happens
    assert crm.lease_holder("LEAD-1") == first
    crm.release_lease("LEAD-1", first)
    assert crm.acquire_lease("LEAD-1", second, ttl_s=60)
    assert crm.acquire_lease("LEAD-3", first, ttl_s=-1)  # already expired
    assert crm.acquire_lease("LEAD-3", second, ttl_s=60)
    assert not crm.renew_lease("LEAD-3", first, ttl_s=60)  # it lost the lease


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_at_once(tools: Toolbox) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host, _pid, token = new_holder().rsplit(":", 2)
    dead = f"{host}:{gone.stdout.strip()}:{token}"
    assert tools.crm.acquire_lease("LEAD-9", dead, ttl_s=600)

    async def take() -> str:
        async with held_lead(tools.crm, "LEAD-9", ttl_s=60) as holder:
            return holder

    holder = asyncio.run(asyncio.wait_for(take(), timeout=10))
    assert holder != dead
    assert tools.crm.lease_holder("LEAD-9") is None  # released on exit


def test_a_second_runner_waits_for_the_first_and_reads_its_result(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    items = synthetic_leads(12, prefix="TWIN")

    async def both() -> tuple[list[tuple[dict[str, Any], str]], ...]:
        async with checkpoints() as one, checkpoints() as two:
            runners = [BatchRunner(build_graph(saver, toolbox=tools), tools)
                       for saver in (one, two)]

            async def run(runner: BatchRunner) -> list[tuple[dict[str, Any], str]]:
                return list(await asyncio.gather(*(runner.process(i) for i in items)))

            return tuple(await asyncio.gather(*(run(r) for r in runners)))

    first, second = asyncio.run(both())
    errors = [o for o, how in first + second if how == "error"]
    assert not errors, errors
    for (a, how_a), (b, how_b) in zip(first, second, strict=True):
        assert a["lead_id"] == b["lead_id"] and a["status"] == b["status"]
        assert {how_a, how_b} <= {"processed", "already_done", "awaiting_review",
                                  "awaiting_followup"}
        assert "processed" in (how_a, how_b)  # exactly one of them did the work
        assert (how_a, how_b).count("processed") == 1
    with tools.crm.engine.connect() as conn:
        reasons = conn.execute(select(QueueItem.reason).where(
            QueueItem.queue == "manual_review")).scalars().all()
    assert not [r for r in reasons if r.startswith("processing error")], reasons


@pytest.mark.db_backends("sqlite")
def test_two_cli_runs_of_one_file_at_once_file_no_false_errors(tmp_path: Path) -> None:
    source = tmp_path / "leads.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in synthetic_leads(40, prefix="TWO")))
    env = {**os.environ, "LEADFLOW_HOME": str(tmp_path / "home")}
    env.pop("LEADFLOW_DATABASE_URL", None)
    runs = [subprocess.Popen(
        [sys.executable, "-m", "leadflow.cli", "run", "--input", str(source), "--out",
         str(tmp_path / f"out{n}.jsonl"), "--no-progress", "--concurrency", "4"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    for proc in runs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    outs = [[json.loads(line) for line in (tmp_path / f"out{n}.jsonl").read_text().splitlines()]
            for n in (1, 2)]
    assert [o["status"] for o in outs[0]] == [o["status"] for o in outs[1]]
    crm = CrmStore(f"sqlite:///{tmp_path / 'home' / 'crm.db'}")
    try:
        with crm.engine.connect() as conn:
            reasons = conn.execute(select(QueueItem.reason).where(
                QueueItem.queue == "manual_review")).scalars().all()
    finally:
        crm.close()
    assert not [r for r in reasons if r.startswith("processing error")], reasons
