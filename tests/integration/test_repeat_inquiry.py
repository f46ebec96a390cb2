"""A repeat inquiry from a known lead (same email) merges into that lead's own thread and
re-qualifies it on both messages (SPEC §6 'duplicate lead', issue 14 item 3): routed if it
rose to hot/warm and nobody owns it, its owner told if someone does, re-queued otherwise;
nothing twice on a re-run; the follow-up clock and the review still find the lead by its id.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from leadflow.followup import Wake, pending_wait, wake_lead
from leadflow.graph import build_graph
from leadflow.identity import thread_config
from leadflow.review import ReviewDecision, decide_review
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Assignment, MessageLog, Notification, QueueItem
from tests.conftest import OpenCheckpoints, form_item

pytestmark = pytest.mark.db_backends

EMAIL = "li.wei@northwind-analytics.com"
# Only curious: a cold lead in the nurture queue.
CURIOUS = form_item("R-1", **{"Work Email": EMAIL, "Company": "Northwind Analytics",
                              "Job Title": "Sales Manager", "First Name": "Li",
                              "Last Name": "Wei", "Country": None,
                              "message": "Interested in a demo, maybe within 6 months."})
# The same person a week later, by chat: the need, the money and the date are now stated.
READY = {"id": "R-2", "source": "chat", "received_at": "2026-12-01T09:00:00Z", "payload": [
    {"role": "bot", "text": "Your work email?"},
    {"role": "visitor", "text": EMAIL.upper()},
    {"role": "visitor", "text": "Our forecasting spreadsheets broke again and the board wants "
                                "a replacement urgently. Our CFO approved $180k for it and "
                                "I lead the selection. We want to sign this month. "
                                "You can call me on +1 415 555 0134."}]}


def run(tools: Toolbox, checkpoints: OpenCheckpoints, items: list[Any]) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with checkpoints() as saver:
            return await BatchRunner(build_graph(saver, toolbox=tools), tools).run(items)
    return asyncio.run(go())


def thread_of(tools: Toolbox, checkpoints: OpenCheckpoints, lead_id: str) -> Any:
    async def go() -> Any:
        async with checkpoints() as saver:
            return await build_graph(saver, toolbox=tools).aget_state(thread_config(lead_id))
    return asyncio.run(go())


def subjects(tools: Toolbox, lead_id: str, audience: str) -> list[str]:
    return [n["subject"] for n in tools.crm.notifications(lead_id) if n["audience"] == audience]


def test_a_cold_lead_that_writes_again_ready_to_buy_is_routed(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    first, again = run(tools, checkpoints, [CURIOUS, READY])
    assert first["bant"]["tier"] == "cold" and first["status"] == "nurture"
    lead_id = first["lead_id"]
    # the repeat's outcome is the lead's, as it stands now
    assert again["lead_id"] == lead_id and {"duplicate", "repeat_inquiry"} <= set(again["flags"])
    assert again["source_id"] == "R-2"
    assert again["bant"]["tier"] in ("hot", "warm"), again["bant"]
    assert again["status"] == "awaiting_followup" and again["assignment"]["rep_id"]
    # one lead, one assignment, the nurture item closed, the phone from the chat kept
    assert len(tools.crm.list_leads()) == 1 and tools.crm.count(Assignment) == 1
    assert [i["lead_id"] for i in tools.crm.queue_items("nurture")] == []
    lead = tools.crm.get_lead(lead_id)
    assert lead is not None and lead["status"] == "awaiting_followup"
    assert lead["tier"] == again["bant"]["tier"]
    assert again["contact"]["phone"] == "+14155550134"
    assert again["contact"]["title"] == "Sales Manager"  # what it had stays
    # both messages are the evidence; one thread holds both passes
    assert again["trajectory"].count("LeadQualification Expert") == 2
    assert "$180k" in again["bant"]["budget"]["evidence"], again["bant"]
    # the follow-up clock addresses the lead's own thread
    snapshot = thread_of(tools, checkpoints, lead_id)
    assert pending_wait(snapshot) is not None

    async def contacted() -> dict[str, Any]:
        async with checkpoints() as saver:
            return await wake_lead(build_graph(saver, toolbox=tools), lead_id,
                                   Wake(event="contacted"), tools)
    assert asyncio.run(contacted())["status"] == "awaiting_followup"
    assert tools.crm.sla_for(lead_id)["first_touch_at"] is not None  # type: ignore[index]


def test_an_owned_lead_that_writes_again_stays_with_its_rep(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    hot = form_item("O-1")
    again = form_item("O-2", message="Adding: we also need the EU sites covered.")
    first, second = run(tools, checkpoints, [hot, again])
    lead_id, rep = first["lead_id"], first["assignment"]["rep_id"]
    assert first["status"] == second["status"] == "awaiting_followup"
    assert second["assignment"]["rep_id"] == rep and tools.crm.count(Assignment) == 1
    told = [s for s in subjects(tools, lead_id, "rep") if s.startswith("Your lead wrote again")]
    assert len(told) == 1, subjects(tools, lead_id, "rep")
    note = next(n for n in tools.crm.notifications(lead_id) if n["subject"] == told[0])
    assert "EU sites" in note["body"]
    assert pending_wait(thread_of(tools, checkpoints, lead_id)) is not None  # still waiting


def test_a_repeat_changes_nothing_twice(tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    items = [CURIOUS, READY, form_item("X-1"), form_item("X-2", message="Any update?")]
    first = run(tools, checkpoints, items)
    counts = [tools.crm.count(t) for t in (MessageLog, Notification, QueueItem, Assignment)]
    second = run(tools, checkpoints, items)
    assert [tools.crm.count(t) for t in (MessageLog, Notification, QueueItem, Assignment)] \
        == counts
    # a re-run reads every item's lead as it stands: the repeats' outcomes are unchanged,
    # and each first item now shows its lead after the merge, merged once
    assert [second[1], second[3]] == [first[1], first[3]]

    def lead_view(outcome: dict[str, Any]) -> dict[str, Any]:  # without the item's own keys
        return {k: v for k, v in outcome.items()
                if k not in ("source_id", "flags", "item_decisions")}
    assert lead_view(second[0]) == lead_view(first[1])
    assert lead_view(second[2]) == lead_view(first[3])
    assert second[0]["trajectory"].count("LeadQualification Expert") == 2


def test_a_cold_lead_that_is_still_cold_stays_in_nurture(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    later = form_item("C-2", **{"Work Email": EMAIL, "message": "Still just looking, thanks."})
    first, again = run(tools, checkpoints, [CURIOUS, later])
    assert again["status"] == "nurture" and again["bant"]["tier"] == "cold"
    assert [i["lead_id"] for i in tools.crm.queue_items("nurture")] == [first["lead_id"]]
    assert tools.crm.count(Assignment) == 0


def test_a_lead_waiting_for_review_tells_the_reviewers(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    big = form_item("B-1", message="Our claims platform is failing and we must replace it "
                                   "urgently. Budget approved: $2.5M. We sign this month.")
    again = form_item("B-2", message="Following up: can someone call me today?")
    waiting, second = run(tools, checkpoints, [big, again])
    assert waiting["status"] == second["status"] == "manual_review"
    assert "awaiting_review" in second["flags"]
    told = [s for s in subjects(tools, waiting["lead_id"], "operations") if "wrote again" in s]
    assert len(told) == 1

    async def approve() -> dict[str, Any]:
        async with checkpoints() as saver:
            return await decide_review(build_graph(saver, toolbox=tools), tools,
                                       waiting["lead_id"],
                                       ReviewDecision(action="approve", reviewer="vp-sales"))
    assert asyncio.run(approve())["status"] == "awaiting_followup"


def test_what_the_newest_message_states_wins_over_what_an_earlier_one_said(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    """'No budget, next year at the earliest' then 'our COO approved it, can we start this
    month?': the lead now has a budget and a date — not a conflict for a person to sort out
    (agents/newest_touch.py). What the new message says nothing of still counts."""
    email = "ines.duarte@northwind-analytics.com"
    earlier = form_item("N-1", **{"Work Email": email, "Job Title": "Operations Manager",
                                  "message": "Our dispatch reports take days to build. "
                                             "No budget for this yet, next year at the earliest."})
    later = form_item("N-2", **{"Work Email": email,
                                "message": "Good news: our COO approved 40k EUR for this and "
                                           "wants it running this month. Can we talk?"})
    first, again = run(tools, checkpoints, [earlier, later])
    assert first["bant"]["budget"]["band"] == "unlikely"
    assert first["bant"]["timeline"]["band"] == "unclear_or_distant"
    bant = again["bant"]
    assert bant["budget"]["band"] == "clear_budget" and "40k EUR" in bant["budget"]["evidence"]
    assert bant["timeline"]["band"] == "buying_now"
    assert "Operations Manager" in bant["authority"]["evidence"]  # the first message's title
    assert "conflicting_signals" not in again["flags"] and again["status"] == "awaiting_followup"
