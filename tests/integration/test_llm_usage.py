"""Every LLM call a lead causes is in the record: leads run through the real graph against
the scripted OpenAI-compatible server on 127.0.0.1 (tests/scripted_llm.py), which answers
every agent (capture, enrichment, qualification, routing's exception review, the three
outreach drafters and the judge) and fails a share of calls (malformed output, so a repair
turn; HTTP 500 with the client's retries off, so a failed call). The server's count of the
calls it answered, and the tokens it reported for them, must equal what the outcomes'
decisions, `leadflow run`'s summary (llm.batch_usage) and the eval's tokens add up to."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from leadflow.checkpoint import sqlite_checkpointer
from leadflow.graph import build_graph
from leadflow.llm import batch_usage
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from tests.conftest import START, form_item
from tests.scripted_llm import ScriptedLLM

MODEL = "openai:scripted"


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    """The scripted server failing 30% of calls (half malformed, half HTTP 500), every agent
    on it, the client's own retries off (a 500 is then one failed call), fresh breakers."""
    from leadflow import llm

    monkeypatch.setattr(llm, "_breakers", {})
    with ScriptedLLM(delay_ms=0, failure_rate=0.3, seed=3,
                     kinds=("malformed", "http_500")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("LEADFLOW_LLM_MAX_RETRIES", "0")
        yield server


def full_rep(tools: Toolbox) -> None:
    """rep-na-04, the NA smb rep not out of office at START, at capacity: a hot NA smb lead
    finds nobody eligible, so routing asks the LLM to review the exception."""
    from leadflow.agents.capture import extract_lead

    for n in range(60):
        lead = extract_lead({"source": "web_form", "payload": {
            "Email": f"f{n}@filler{n}.com", "Company": f"Filler {n}", "Country": "USA"}})
        tools.crm.capture_lead(lead_id=f"LEAD-fill{n}", record=lead, fingerprint=f"fill{n}",
                               source_id=None, now=START)
        tools.crm.assign(lead_id=f"LEAD-fill{n}", rep_id="rep-na-04", kind="rep",
                         region="NA", segment="smb", reason="fill", audit={}, now=START,
                         speed_to_lead_seconds=None, account_id=None)


def items() -> list[dict[str, Any]]:
    """The duplicates set (emails and chats the parsers cannot fully read, so capture asks
    the LLM; repeat inquiries merged into their lead's thread) and a hot lead for routing's
    exception review."""
    from leadflow.evals.runner import load_dataset

    tiny = form_item("TINY-1", **{
        "Work Email": "jo.park@tinyshop.com", "First Name": "Jo", "Last Name": "Park",
        "Job Title": "Owner", "Company": "Tiny Shop", "Country": "USA", "Employees": "12",
        "message": "Our till system keeps failing and we need to replace it now. Budget "
                   "approved: $30k. We sign this week."})
    return [*(e["item"] for e in load_dataset("duplicates")), tiny]


def test_every_answered_call_is_in_the_decisions(scripted: ScriptedLLM, tools: Toolbox,
                                                 tmp_path: Any) -> None:
    full_rep(tools)

    async def go() -> list[dict[str, Any]]:
        async with sqlite_checkpointer(tmp_path / "cp.db") as saver:
            runner = BatchRunner(build_graph(saver, toolbox=tools), tools,
                                 context={"model": MODEL})
            return await runner.run(items())

    outcomes = asyncio.run(go())
    stats = scripted.stats()
    # the paths this test claims to cover were taken
    assert {"ExtractedLead", "EnrichmentSummary", "BantProposal", "RoutingReview",
            "OutreachDraft", "JudgeVerdict"} <= set(stats["by_tool"])
    assert stats["by_kind"]["malformed"] > 0 and stats["by_kind"]["http_500"] > 0
    assert any("repeat_inquiry" in o["flags"] for o in outcomes)
    assert stats["calls"] == stats["answered"] + stats["by_kind"]["http_500"]

    usage = batch_usage(outcomes)
    assert usage["calls"] == stats["answered"]
    assert usage["input_tokens"] == stats["prompt_tokens"]
    assert usage["output_tokens"] == stats["completion_tokens"]
    # the follow-up step carries its drafts and judge (4 asks, a repair turn each at most)
    followups = [d for o in outcomes for d in o["decisions"] if d["step"] == "followup"]
    assert followups and all(d["model"] == MODEL and 1 <= d["usage"]["calls"] <= 8
                             for d in followups)


def test_the_eval_counts_every_call_once(scripted: ScriptedLLM) -> None:
    """The eval's per-row tokens (tokens_per_lead is their mean) add up to what the server
    answered, though a repeat inquiry's outcome repeats its lead's decisions."""
    from leadflow.evals.runner import run_eval

    record = asyncio.run(run_eval("duplicates", model=MODEL))
    stats = scripted.stats()
    rows = record["rows"]
    assert any("repeat_inquiry" in r["flags"] for r in rows)
    assert sum(r["tokens"] for r in rows) == stats["prompt_tokens"] + stats["completion_tokens"]
    assert record["metrics"]["tokens_per_lead"] == pytest.approx(
        sum(r["tokens"] for r in rows) / len(rows), abs=0.05)


def test_a_failed_repair_turn_still_counts_the_reply_that_came(
        scripted: ScriptedLLM, tools: Toolbox, tmp_path: Any) -> None:
    """A malformed reply and then an HTTP 500 on the repair turn: one call answered and
    paid for, though the step fell back to its rules."""
    from leadflow.agents.llm_step import ask_llm
    from leadflow.agents.qualification import BantProposal
    from leadflow.context import LeadflowContext

    calls: list[str] = []

    def decide(body_key: str, occurrence: int) -> str:
        calls.append(body_key)
        return "malformed" if len(calls) == 1 else "http_500"

    scripted.decide = decide  # type: ignore[method-assign]
    answer = asyncio.run(ask_llm("qualification", LeadflowContext(model=MODEL), BantProposal, {
        "bands": "", "received_at": "unknown", "facts": "", "lead_text": "hello"}))
    assert answer.parsed is None and "llm_error" in answer.flags
    assert len(calls) == 2
    assert answer.usage is not None and answer.usage["calls"] == 1
    assert answer.usage["input_tokens"] == scripted.stats()["prompt_tokens"]
