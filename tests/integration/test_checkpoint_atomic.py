"""A task's pending writes reach PostgreSQL together or not at all. The stock saver sends
them as separate autocommitted statements: the fault-injection run that cuts every
connection caught a lead whose capture had kept its hand-off to the supervisor but lost its
result, and the resumed thread failed on a step with no output (IndexError). Here the
second of two writes fails for certain (PostgreSQL refuses a NUL in text), as a cut
connection may fail it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from leadflow.checkpoint import postgres_checkpointer

pytestmark = pytest.mark.postgres

THREAD = {"configurable": {"thread_id": "atomic-1", "checkpoint_ns": ""}}


async def _writes_left(url: str, writes: list[tuple[str, Any]]) -> list[str]:
    async with postgres_checkpointer(url) as saver:
        config = await saver.aput(THREAD, empty_checkpoint(),
                                  {"source": "input", "step": -1, "parents": {}}, {})
        with contextlib.suppress(Exception):  # the failed write is the point: what stays?
            await saver.aput_writes(config, writes, "task-1")
        async with saver.conn.connection() as conn:
            rows = await (await conn.execute(
                "SELECT channel FROM checkpoint_writes WHERE thread_id = 'atomic-1'")).fetchall()
            await conn.execute("DELETE FROM checkpoint_writes WHERE thread_id = 'atomic-1'")
            await conn.execute("DELETE FROM checkpoints WHERE thread_id = 'atomic-1'")
        return [row["channel"] for row in rows]


def test_a_tasks_writes_land_together_or_not_at_all(postgres_url: str) -> None:
    assert asyncio.run(_writes_left(postgres_url, [("steps", [1]), ("bad\x00", 2)])) == []


def test_a_tasks_writes_that_succeed_are_all_kept(postgres_url: str) -> None:
    kept = asyncio.run(_writes_left(postgres_url, [("steps", [1]), ("branch:to:x", None)]))
    assert sorted(kept) == ["branch:to:x", "steps"]
