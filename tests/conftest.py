"""Shared fixtures: a real SQLite CRM in a temp dir, a frozen clock, and a helper that runs
items through the compiled graph with a real SQLite checkpointer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadflow.clock import FrozenClock
from leadflow.graph import build_graph
from leadflow.runner import BatchRunner, sqlite_checkpointer
from leadflow.toolbox import Toolbox

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def tools(tmp_path: Path, clock: FrozenClock) -> Iterator[Toolbox]:
    toolbox = Toolbox.open(f"sqlite:///{tmp_path / 'crm.db'}", clock=clock)
    yield toolbox
    toolbox.crm.close()


RunItems = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def run_items(tools: Toolbox, tmp_path: Path) -> RunItems:
    """run_items(items, **build_graph_kwargs) → outcome records, through the real graph."""

    def run(items: list[Any], **kwargs: Any) -> list[dict[str, Any]]:
        async def go() -> list[dict[str, Any]]:
            async with sqlite_checkpointer(tmp_path / "checkpoints.db") as saver:
                graph = build_graph(saver, toolbox=tools, **kwargs)
                return await BatchRunner(graph, tools).run(items)

        return asyncio.run(go())

    return run


def form_item(item_id: str = "F-1", **fields: Any) -> dict[str, Any]:
    payload = {
        "First Name": "Priya", "Last Name": "Nair", "Work Email": "priya.nair@lumenhealth.com",
        "Job Title": "VP of Engineering", "Company": "Lumen Health Partners", "Country": "USA",
        "message": ("Our scheduling system keeps failing and we need to replace it urgently. "
                    "Budget approved: $250k. We want to sign this month."),
    }
    payload.update(fields)
    return {"id": item_id, "source": "web_form", "received_at": "2026-11-24T08:55:00Z",
            "payload": {k: v for k, v in payload.items() if v is not None}}
