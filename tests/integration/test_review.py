"""Human review: a lead that needs a person pauses with interrupt(); a decision resumes the
same thread — from this process, the CLI, or a second process — without repeating side
effects."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leadflow.graph import build_graph
from leadflow.identity import thread_config
from leadflow.review import ReviewDecision, decide_review, pending_review
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Assignment, MessageLog, Notification
from tests.conftest import OpenCheckpoints, form_item

pytestmark = pytest.mark.db_backends

# No email and no phone: capture fails and the lead goes to manual review.
PARTIAL = form_item("P-1", **{"Work Email": None, "Country": "USA"})


def run(tools: Toolbox, checkpoints: OpenCheckpoints, items: list[Any]) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with checkpoints() as saver:
            return await BatchRunner(build_graph(saver, toolbox=tools), tools).run(items)
    return asyncio.run(go())


def decide(tools: Toolbox, checkpoints: OpenCheckpoints, lead_id: str,
           decision: ReviewDecision) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with checkpoints() as saver:
            return await decide_review(build_graph(saver, toolbox=tools), tools, lead_id,
                                       decision)
    return asyncio.run(go())


def test_a_failed_capture_waits_for_a_person(tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    [outcome] = run(tools, checkpoints, [PARTIAL])
    assert outcome["status"] == "manual_review" and "awaiting_review" in outcome["flags"]

    async def snapshot() -> Any:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            return await graph.aget_state(thread_config(outcome["lead_id"]))
    request = pending_review(asyncio.run(snapshot()))
    assert request is not None and request["kind"] == "capture_failed"
    assert set(request["options"]) == {"approve", "reject", "set_tier", "assign"}
    assert request["evidence"]["lead"]["company"]["name"] == "Lumen Health Partners"
    # running the batch again does not re-run or re-queue the paused lead
    notifications = tools.crm.count(Notification)
    [again] = run(tools, checkpoints, [PARTIAL])
    assert again == outcome and tools.crm.count(Notification) == notifications


def test_reject_settles_the_lead_in_marketing(tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    [waiting] = run(tools, checkpoints, [PARTIAL])
    done = decide(tools, checkpoints, waiting["lead_id"],
                  ReviewDecision(action="reject", reviewer="ops@x", note="spam"))
    assert done["status"] == "marketing" and "human_reject" in done["flags"]
    assert done["decisions"][-1]["decided_by"] == "human"
    assert tools.crm.queue_items("manual_review") == []
    assert tools.crm.get_lead(waiting["lead_id"])["status"] == "marketing"  # type: ignore[index]


def test_assign_sends_the_lead_to_the_rep_and_starts_the_sla(tools: Toolbox,
                                                             checkpoints: OpenCheckpoints) -> None:
    [waiting] = run(tools, checkpoints, [PARTIAL])
    before = (tools.crm.count(Notification), tools.crm.count(MessageLog))
    done = decide(tools, checkpoints, waiting["lead_id"],
                  ReviewDecision(action="assign", rep_id="rep-na-02", reviewer="ops@x"))
    assert done["status"] == "awaiting_followup"
    assert done["assignment"]["rep_id"] == "rep-na-02"
    assert done["trajectory"][-1] == "FollowUp Monitor"
    assert tools.crm.count(Assignment) == 1
    # the resumed review node re-ran its queue/notify/settle writes: none repeated
    audiences = [n["audience"] for n in tools.crm.notifications(waiting["lead_id"])]
    assert audiences.count("operations") == 1 and audiences.count("data_quality") == 1
    assert tools.crm.count(Notification) == before[0]
    assert tools.crm.count(MessageLog) > before[1]


def test_set_tier_routes_by_the_reviewers_tier(tools: Toolbox,
                                               checkpoints: OpenCheckpoints) -> None:
    [waiting] = run(tools, checkpoints, [PARTIAL])
    done = decide(tools, checkpoints, waiting["lead_id"],
                  ReviewDecision(action="set_tier", tier="cold", reviewer="ops@x"))
    assert done["status"] == "nurture" and done["bant"]["tier"] == "cold"


def test_a_decision_must_fit_the_request(tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    with pytest.raises(ValueError, match="needs a rep_id"):
        ReviewDecision(action="assign")
    [waiting] = run(tools, checkpoints, [PARTIAL])
    with pytest.raises(ValueError, match="no rep 'rep-nowhere'"):
        decide(tools, checkpoints, waiting["lead_id"],
               ReviewDecision(action="assign", rep_id="rep-nowhere"))
    [done] = run(tools, checkpoints, [form_item("OK-1")])
    with pytest.raises(ValueError, match="not waiting for review"):
        decide(tools, checkpoints, done["lead_id"], ReviewDecision(action="approve"))


@pytest.mark.slow
def test_a_second_process_resumes_the_review(tmp_path: Path, backend: str,
                                             database_url: str) -> None:
    """`leadflow review decide` in a new Python process, same checkpoints and CRM (SQLite
    files, or the PostgreSQL database holding both)."""
    home = tmp_path / "home"
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(PARTIAL) + "\n")
    env = {**os.environ, "LEADFLOW_HOME": str(home)}
    env.pop("LEADFLOW_DATABASE_URL", None)
    if backend == "postgres":
        env["LEADFLOW_DATABASE_URL"] = database_url

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "leadflow.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    first = cli("run", "-i", str(source), "--out", str(tmp_path / "out.jsonl"), "--no-progress")
    assert first.returncode == 0, first.stderr
    lead_id = json.loads((tmp_path / "out.jsonl").read_text())["lead_id"]
    listed = cli("review", "list")
    assert lead_id in listed.stdout
    decided = cli("review", "decide", lead_id, "--assign", "rep-na-02", "--reviewer", "dana")
    assert decided.returncode == 0, decided.stderr
    assert "awaiting_followup" in decided.stdout
    assert lead_id not in cli("review", "list").stdout


def test_a_very_large_deal_waits_for_a_person_then_routes(tools: Toolbox,
                                                          checkpoints: OpenCheckpoints) -> None:
    big = form_item("BIG-1", message="Our claims platform is failing and we must replace it "
                                     "urgently. Budget approved: $2.5M. We sign this month.")
    [waiting] = run(tools, checkpoints, [big])
    assert waiting["status"] == "manual_review" and "awaiting_review" in waiting["flags"]
    assert waiting["bant"]["tier"] == "hot" and waiting["assignment"] is None
    assert waiting["trajectory"][-1] == "LeadQualification Expert"
    done = decide(tools, checkpoints, waiting["lead_id"],
                  ReviewDecision(action="approve", reviewer="vp-sales"))
    assert done["status"] == "awaiting_followup" and done["assignment"]["rep_id"]
    assert done["decisions"][-3]["decided_by"] == "human"  # then routing, follow-up


def test_conflicting_signals_on_a_warm_lead_wait_for_a_person(tools: Toolbox,
                                                              checkpoints: OpenCheckpoints) -> None:
    mixed = form_item("MIX-1", message="Budget approved: $90k, although we have no budget "
                                       "until next year. We need to replace our scheduling "
                                       "tool and want to sign this month.")
    [waiting] = run(tools, checkpoints, [mixed])
    assert {"conflicting_signals", "awaiting_review"} <= set(waiting["flags"])
    assert waiting["bant"]["tier"] == "warm"
    done = decide(tools, checkpoints, waiting["lead_id"],
                  ReviewDecision(action="set_tier", tier="cold", reviewer="ops"))
    assert done["status"] == "nurture" and done["bant"]["tier"] == "cold"


def test_a_lead_back_in_a_queue_it_left_reopens_its_item(tools: Toolbox) -> None:
    """Paused for review again after a decision: it must not wait without an open item."""
    now = tools.clock.now()
    assert tools.crm.enqueue("manual_review", "LEAD-R1", "capture failed", now)
    assert not tools.crm.enqueue("manual_review", "LEAD-R1", "capture failed", now)  # replay
    assert tools.crm.resolve("manual_review", "LEAD-R1", now, "approve by ana")
    assert tools.crm.queue_items("manual_review") == []
    assert tools.crm.enqueue("manual_review", "LEAD-R1", "routing timed out", now)
    [item] = tools.crm.queue_items("manual_review")
    assert (item["lead_id"], item["reason"]) == ("LEAD-R1", "routing timed out")
