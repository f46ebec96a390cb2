"""A lead's thread keeps its last checkpoint once the lead settles or pauses (issue 15):
settled, waiting-for-engagement and waiting-for-review threads each hold one checkpoint,
and still resume from it; `LEADFLOW_CHECKPOINT_HISTORY=all` keeps every step; a message
references the lead's record instead of copying it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from leadflow.followup import Wake, wake_lead
from leadflow.graph import build_graph
from leadflow.identity import thread_config
from leadflow.review import ReviewDecision, decide_review
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from tests.conftest import OpenCheckpoints, form_item

pytestmark = pytest.mark.db_backends

HOT = form_item("K-1")
COLD = form_item("K-2", **{"Work Email": "li.wei@northwind-analytics.com",
                           "Company": "Northwind Analytics", "Job Title": "Sales Manager",
                           "message": "Interested in a demo, maybe within 6 months."})
BIG = form_item("K-3", **{"Work Email": "ana.silva@lumenhealth.com",
                          "message": "Our claims platform is failing and we must replace it "
                                     "urgently. Budget approved: $2.5M. We sign this month."})


def run(tools: Toolbox, checkpoints: OpenCheckpoints, items: list[Any]) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with checkpoints() as saver:
            return await BatchRunner(build_graph(saver, toolbox=tools), tools).run(items)
    return asyncio.run(go())


def kept(checkpoints: OpenCheckpoints, lead_id: str) -> int:
    async def go() -> int:
        async with checkpoints() as saver:
            return len([c async for c in saver.alist(thread_config(lead_id))])
    return asyncio.run(go())


def test_settled_and_paused_threads_keep_their_last_checkpoint(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    hot, cold, big = run(tools, checkpoints, [HOT, COLD, BIG])
    assert (hot["status"], cold["status"], big["status"]) == (
        "awaiting_followup", "nurture", "manual_review")
    for outcome in (hot, cold, big):
        assert kept(checkpoints, outcome["lead_id"]) == 1, outcome["status"]

    async def resume() -> tuple[dict[str, Any], dict[str, Any]]:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            touched = await wake_lead(graph, hot["lead_id"], Wake(event="contacted"), tools)
            decided = await decide_review(graph, tools, big["lead_id"],
                                          ReviewDecision(action="approve", reviewer="vp"))
            return touched, decided
    touched, decided = asyncio.run(resume())  # resumed from the one checkpoint each kept
    assert touched["status"] == "awaiting_followup"
    assert decided["status"] == "awaiting_followup" and decided["assignment"]["rep_id"]
    assert kept(checkpoints, hot["lead_id"]) == kept(checkpoints, big["lead_id"]) == 1
    # a re-run reads the same outcomes back from what was kept
    assert run(tools, checkpoints, [COLD])[0] == cold


def test_every_step_is_kept_when_asked(tools: Toolbox, checkpoints: OpenCheckpoints,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_CHECKPOINT_HISTORY", "all")
    [cold] = run(tools, checkpoints, [COLD])
    assert kept(checkpoints, cold["lead_id"]) > 5


def test_messages_reference_the_record_instead_of_copying_it(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    [hot] = run(tools, checkpoints, [HOT])
    inquiry = hot["messages"] and HOT["payload"]["message"]
    for message in hot["messages"][1:]:
        data = message["payload"]["lead_data"]
        assert data["lead_id"] == hot["lead_id"]
        assert data["contact"] == hot["contact"]["email"]
        assert inquiry not in json.dumps(data)  # the record is the lead's, held once
    assert hot["messages"][-1]["payload"]["lead_data"]["bant"]["tier"] == "hot"
