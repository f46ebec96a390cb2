"""A lead's long tail on a fake clock: arrives → routed → reminder → no response →
escalated → the manager reassigns → replied → closed; plus out-of-office reassignment and
idempotent wakes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from leadflow.clock import FrozenClock
from leadflow.followup import Wake, sweep, wake_lead
from leadflow.graph import build_graph
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import EngagementEvent, Notification
from tests.conftest import OpenCheckpoints, form_item

pytestmark = pytest.mark.db_backends


def with_graph(tools: Toolbox, checkpoints: OpenCheckpoints, fn: Any) -> Any:
    async def go() -> Any:
        async with checkpoints() as saver:
            return await fn(build_graph(saver, toolbox=tools))
    return asyncio.run(go())


def arrive(tools: Toolbox, checkpoints: OpenCheckpoints, item: dict[str, Any]) -> dict[str, Any]:
    return with_graph(tools, checkpoints,
                      lambda g: BatchRunner(g, tools).run([item]))[0]  # type: ignore[no-any-return]


def test_the_whole_story(tools: Toolbox, clock: FrozenClock, checkpoints: OpenCheckpoints) -> None:
    lead = arrive(tools, checkpoints, form_item())
    lead_id, rep = lead["lead_id"], lead["assignment"]["rep_id"]
    assert lead["status"] == "awaiting_followup"
    sla = tools.crm.sla_for(lead_id)
    assert sla is not None and sla["due_at"] == clock.now() + timedelta(hours=1)  # hot

    def swept() -> dict[str, Any]:
        return with_graph(tools, checkpoints, lambda g: sweep(g, tools))[0]  # type: ignore[no-any-return]

    def audience(name: str) -> list[dict[str, Any]]:
        return [n for n in tools.crm.notifications(lead_id) if n["audience"] == name]

    clock.advance(timedelta(minutes=10))
    assert swept()["status"] == "awaiting_followup" and not audience("sales_manager")
    assert len([n for n in audience("rep") if "Reminder" in n["subject"]]) == 0
    clock.advance(timedelta(minutes=40))  # past remind_at (due − 15 min)
    swept()
    swept()  # a second sweep does not remind twice
    assert len([n for n in audience("rep") if "Reminder" in n["subject"]]) == 1
    clock.advance(timedelta(hours=24))  # no response in 24 h
    escalated = swept()
    assert escalated["status"] == "escalated"
    [manager_note] = audience("sales_manager")
    assert manager_note["recipient"] == "dana.whitfield@leadflow.example"

    other = "rep-na-01" if rep != "rep-na-01" else "rep-na-02"
    moved = with_graph(tools, checkpoints, lambda g: wake_lead(
        g, lead_id, Wake(event="reassigned", rep_id=other)))
    assert moved["assignment"]["rep_id"] == other and moved["status"] == "awaiting_followup"
    assert tools.crm.get_assignment(lead_id)["rep_id"] == other  # type: ignore[index]
    assert tools.crm.rep_loads()[other][0] == 1 and tools.crm.rep_loads()[rep][0] == 0

    clock.advance(timedelta(minutes=20))
    replied = with_graph(tools, checkpoints, lambda g: wake_lead(g, lead_id, Wake(event="replied")))
    assert replied["status"] == "awaiting_followup"
    assert tools.crm.sla_for(lead_id)["first_touch_at"] == clock.now()  # type: ignore[index]
    clock.advance(timedelta(days=3))
    swept()  # touched: no more reminders or escalations
    assert len(audience("sales_manager")) == 1

    closed = with_graph(tools, checkpoints, lambda g: wake_lead(g, lead_id,
                                                             Wake(event="closed_won")))
    assert closed["status"] == "routed" and "closed_won" in closed["flags"]
    assert tools.crm.rep_loads()[other][0] == 0
    assert [e["event_type"] for e in tools.crm.events_for(lead_id)] == [
        "reassigned", "replied", "closed_won"]
    assert tools.crm.waiting_sla_leads() == []
    # the finished thread no longer waits; a batch re-run reads its outcome back
    again = arrive(tools, checkpoints, form_item())
    assert again["status"] == "routed"


def test_an_out_of_office_rep_gets_the_lead_reassigned(tools: Toolbox, clock: FrozenClock,
                                                      checkpoints: OpenCheckpoints) -> None:
    from leadflow.config import RepDirectoryConfig
    from leadflow.tools.notifier import Notifier
    from leadflow.tools.reps import RepDirectory

    german = form_item("OOO-1", **{"Work Email": "lena@brightwave-media.de", "Country": "DE",
                                   "Company": "Brightwave Media GmbH", "Employees": "450",
                                   "Industry": "Software"})
    lead = arrive(tools, checkpoints, german)
    first = lead["assignment"]["rep_id"]
    assert lead["status"] == "awaiting_followup" and first == "rep-emea-03"
    # ops mark the rep out of office in reps.yaml
    raw = tools.reps.config.model_dump(by_alias=True)
    for rep in raw["reps"]:
        if rep["id"] == first:
            rep["out_of_office"] = {"from": "2026-11-24", "until": "2026-12-31"}
    tools.reps = RepDirectory(RepDirectoryConfig.model_validate(raw))
    tools.notifier = Notifier(tools.crm, tools.reps)
    clock.advance(timedelta(minutes=5))
    after = with_graph(tools, checkpoints, lambda g: sweep(g, tools))[0]
    assert after["assignment"]["rep_id"] == "rep-emea-02"  # the other EMEA mid-market rep
    audit = tools.crm.get_assignment(lead["lead_id"])["audit"]  # type: ignore[index]
    assert audit["reassignments"][0]["from"] == first
    assert any(n["recipient"] == "lukas.becker@leadflow.example"
               for n in tools.crm.notifications(lead["lead_id"]))


def test_replayed_wakes_record_nothing_twice(tools: Toolbox, clock: FrozenClock,
                                            checkpoints: OpenCheckpoints) -> None:
    lead_id = arrive(tools, checkpoints, form_item())["lead_id"]
    at = clock.now().isoformat()
    with_graph(tools, checkpoints, lambda g: wake_lead(g, lead_id, Wake(event="contacted", at=at)))
    notifications = tools.crm.count(Notification)
    with_graph(tools, checkpoints, lambda g: wake_lead(g, lead_id, Wake(event="contacted", at=at)))
    assert tools.crm.count(EngagementEvent) == 1
    assert tools.crm.count(Notification) == notifications


def test_three_drafts_a_judge_and_the_ab_credit(tools: Toolbox, clock: FrozenClock,
                                               checkpoints: OpenCheckpoints) -> None:
    lead = arrive(tools, checkpoints, form_item())
    drafts = {d["style"]: d for d in tools.crm.drafts_for(lead["lead_id"])}
    assert set(drafts) == {"data_driven", "emotional", "benefit_focused"}
    assert all("Priya" in d["body"] and "Lumen Health Partners" in d["body"]
               for d in drafts.values())
    [judged] = [d for d in drafts.values() if d["judge_reasons"]]
    assert judged["style"] == "data_driven"  # a VP: the rules judge prefers numbers
    assert "rules judge" in judged["judge_reasons"]
    [chosen] = [d for d in drafts.values() if d["chosen"]]  # the outreach bandit's choice
    assert chosen["choice"]["judge_pick"] == "data_driven"
    assert chosen["choice"]["chosen_by"] in ("bandit", "exploration")
    with_graph(tools, checkpoints, lambda g: wake_lead(g, lead["lead_id"], Wake(event="replied")))
    with_graph(tools, checkpoints, lambda g: wake_lead(g, lead["lead_id"],
                                                    Wake(event="reassigned",
                                                         rep_id="rep-na-01")))
    assert [r for r in tools.crm.outreach_results()] == [
        {"style": chosen["style"], "engagement": "replied", "leads": 1, "lost": 0}]
    # lost after the reply: the draft keeps its best stage, and the A/B counts the loss
    with_graph(tools, checkpoints, lambda g: wake_lead(g, lead["lead_id"],
                                                    Wake(event="closed_lost")))
    assert [r for r in tools.crm.outreach_results()] == [
        {"style": chosen["style"], "engagement": "replied", "leads": 1, "lost": 1}]
    assert tools.crm.style_counts(chosen["choice"]["segment"]) == {chosen["style"]: (1, 0)}


def test_a_bad_reassignment_is_refused_and_does_not_jam_the_thread(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    import pytest

    lead_id = arrive(tools, checkpoints, form_item())["lead_id"]
    with pytest.raises(ValueError, match="known rep id"):
        with_graph(tools, checkpoints, lambda g: wake_lead(
            g, lead_id, Wake(event="reassigned", rep_id="nobody"), tools))
    # without the pre-check the wake is recorded as ignored, and the next one still works
    ignored = with_graph(tools, checkpoints, lambda g: wake_lead(
        g, lead_id, Wake(event="reassigned", rep_id="nobody")))
    assert "invalid_event" in ignored["flags"]
    replied = with_graph(tools, checkpoints, lambda g: wake_lead(g, lead_id, Wake(event="replied")))
    assert replied["status"] == "awaiting_followup"
    assert tools.crm.sla_for(lead_id)["first_touch_at"] is not None  # type: ignore[index]
