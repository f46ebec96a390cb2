"""Capture and enrichment with a scripted LLM: when it is asked, how its output is checked,
and the rules fallback."""

from __future__ import annotations

import asyncio
from typing import Any

from leadflow.agents.capture import CaptureAgent, extract_lead
from leadflow.agents.enrichment import EnrichmentAgent
from leadflow.context import LeadflowContext
from leadflow.toolbox import Toolbox
from tests.llm_fakes import ScriptedChatModel

LLM_RUN = LeadflowContext(model="scripted:test")
CHAT = {"id": "C-9", "source": "chat", "received_at": "2026-11-20T10:00:00Z", "payload": [
    {"role": "bot", "text": "Hi! How can we help?"},
    {"role": "visitor", "text": "hola, soy quien lleva los datos en Tiendas Roble Sereno, "
                                "escríbeme a marta@tiendasrobleseren0.es, soy la directora de "
                                "sistemas"},
]}


def capture(tools: Toolbox, item: dict[str, Any], script: list[Any]) -> tuple[Any, Any]:
    model = ScriptedChatModel(schema_name="ExtractedLead", script=script)
    state = {"item": item, "workflow_id": f"LEAD-{item['id']}"}
    return asyncio.run(CaptureAgent(model=model).run(state, tools, LLM_RUN)), model


def test_capture_asks_the_llm_when_the_parsers_miss_fields(tools: Toolbox) -> None:
    out, model = capture(tools, CHAT, [{
        "first_name": "Marta", "email": "marta@tiendasrobleseren0.es",
        "title": "directora de sistemas", "company_name": "Tiendas Roble Sereno",
        "phone": "+34 600 000 000",  # not in the chat: must be dropped
        "inquiry": "quiere centralizar los datos"}])
    assert len(model.calls) == 1 and out.decided_by == "llm"
    contact = out.update["lead"]["contact"]
    assert contact["first_name"] == "Marta" and contact["seniority"] == "director"
    assert contact["phone"] is None
    assert "ungrounded_extraction:phone" in out.flags
    assert out.update["lead"]["company"]["name"] == "Tiendas Roble Sereno"


def test_capture_skips_the_llm_when_the_parsers_found_everything(tools: Toolbox) -> None:
    item = {"id": "F-9", "source": "web_form", "payload": {
        "First Name": "Ana", "Last Name": "Souza", "Email": "ana@bancoandino.com.pe",
        "Company": "Banco Andino de Inversiones", "Job Title": "CFO"}}
    assert extract_lead(item)["contact"]["title"] == "CFO"
    out, model = capture(tools, item, [])
    assert model.calls == [] and out.decided_by == "rules"


def test_capture_falls_back_to_the_parsers(tools: Toolbox) -> None:
    out, _ = capture(tools, CHAT, [TimeoutError("slow"), ])
    assert out.decided_by == "rules" and "llm_fallback" in out.flags
    assert out.update["lead"]["contact"]["email"] == "marta@tiendasrobleseren0.es"


def enrich(tools: Toolbox, script: list[Any]) -> Any:
    lead = extract_lead({"source": "web_form", "payload": {
        "Email": "dana@kestrelfreight.com", "Company": "Kestrel Freight Systems",
        "Job Title": "CTO", "message": "Our dispatch system fails weekly."}})
    model = ScriptedChatModel(schema_name="EnrichmentSummary", script=script)
    return asyncio.run(EnrichmentAgent(model=model).run({"lead": lead}, tools, LLM_RUN))


def test_enrichment_summary_from_the_llm(tools: Toolbox) -> None:
    out = enrich(tools, [{"summary": "Kestrel is a large US freight manufacturer.",
                         "talking_points": ["Weekly dispatch failures cost them customers.",
                                            "They already run AWS."]}])
    assert out.decided_by == "llm"
    assert out.update["enrichment"]["summary"] == "Kestrel is a large US freight manufacturer."
    assert out.update["lead"]["company"]["employees"] == 4800  # lookup stays code


def test_enrichment_falls_back_to_the_rules_writer(tools: Toolbox) -> None:
    out = enrich(tools, [{"summary": "x", "talking_points": []},
                         {"summary": "x", "talking_points": ["only one"]}])
    assert out.decided_by == "rules" and "llm_fallback" in out.flags
    assert 2 <= len(out.update["enrichment"]["talking_points"]) <= 4


def routing_state(tools: Toolbox) -> dict[str, Any]:
    """An NA smb hot lead when the only NA smb reps are full (rep-na-04) or out of office
    (rep-na-05, 2026-11-23..12-04): the rules find nobody eligible."""
    from tests.conftest import START

    def crm_lead(lead_id: str, email: str) -> dict[str, Any]:
        lead = extract_lead({"source": "web_form", "payload": {
            "Email": email, "Company": "Tiny Shop", "Country": "USA", "Employees": "12",
            "message": "We sign this week."}})
        tools.crm.capture_lead(lead_id=lead_id, record=lead, fingerprint=lead_id,
                               source_id=None, now=START)
        return lead

    for n in range(60):
        crm_lead(f"LEAD-fill{n}", f"f{n}@filler{n}.com")
        tools.crm.assign(lead_id=f"LEAD-fill{n}", rep_id="rep-na-04", kind="rep", region="NA",
                         segment="smb", reason="fill", audit={}, now=START,
                         speed_to_lead_seconds=None, account_id=None)
    return {"lead": crm_lead("LEAD-route1", "jo@tinyshop.com"), "lead_id": "LEAD-route1",
            "bant": {"tier": "hot"}, "ingested_at": START.isoformat()}


def route(tools: Toolbox, script: list[Any]) -> tuple[Any, ScriptedChatModel]:
    from leadflow.agents.routing import RoutingAgent

    model = ScriptedChatModel(schema_name="RoutingReview", script=script)
    state = routing_state(tools)
    return asyncio.run(RoutingAgent(model=model).run(state, tools, LLM_RUN)), model


def test_routing_exception_review_may_pick_a_stretch_candidate(tools: Toolbox) -> None:
    out, model = route(tools, [{"action": "assign", "rep_id": "rep-na-03",
                                "reason": "hot, signing this week; mid-market rep has room"}])
    prompt = "\n".join(str(m.content) for m in model.calls[0])
    assert "rep-na-04" in prompt and "at capacity" in prompt
    assert "rep-na-05" not in prompt  # out of office: a hard rule, never offered
    assert out.decision == "rep" and out.decided_by == "llm"
    assert out.update["assignment"]["rep_id"] == "rep-na-03"
    assert out.update["assignment"]["audit"]["rule"] == "llm_exception_review"


def test_routing_exception_review_cannot_pick_outside_the_list(tools: Toolbox) -> None:
    out, _ = route(tools, [{"action": "assign", "rep_id": "rep-na-05", "reason": "x"}])
    assert out.decision == "manager" and "llm_choice_rejected" in out.flags
    assert out.update["assignment"]["rep_id"] == "mgr-na"


def test_outreach_drafters_and_judge_on_the_llm() -> None:
    from leadflow.agents.outreach import compete
    from tests.llm_fakes import SchemaAwareFake

    lead = extract_lead({"source": "web_form", "payload": {
        "First Name": "Dana", "Email": "dana@kestrelfreight.com", "Company": "Kestrel",
        "Job Title": "CTO", "message": "Our dispatch system fails weekly."}})
    contest = asyncio.run(compete({"lead": lead}, LLM_RUN, "Alicia", SchemaAwareFake()))
    assert contest["written_by"] == {"data_driven": "llm", "emotional": "llm",
                                     "benefit_focused": "llm"}
    assert contest["judged_by"] == "llm" and contest["chosen"] == "benefit_focused"


def test_outreach_falls_back_to_templates_and_the_rules_judge() -> None:
    from leadflow.agents.outreach import compete

    lead = extract_lead({"source": "web_form", "payload": {
        "First Name": "Dana", "Email": "dana@kestrelfreight.com", "Company": "Kestrel",
        "Job Title": "Operations Manager", "message": "Our dispatch system fails weekly."}})
    broken = ScriptedChatModel(schema_name="OutreachDraft",
                               script=[ConnectionError("down")] * 4)
    contest = asyncio.run(compete({"lead": lead}, LLM_RUN, "Alicia", broken))
    assert set(contest["written_by"].values()) == {"rules"} and contest["judged_by"] == "rules"
    assert contest["chosen"] == "benefit_focused"  # a manager: outcomes first
    assert "llm_fallback" in contest["flags"]


def test_the_llm_drafters_get_the_open_slots_as_data_and_every_draft_carries_them() -> None:
    from leadflow.agents.outreach import SlotOffer, compete
    from tests.llm_fakes import tool_reply

    offer = SlotOffer(rep_id="rep-na-01", timezone="America/New_York",
                      times=["Tue 08 Dec 10:00 EST", "Tue 08 Dec 10:30 EST"],
                      starts=["2026-12-08T15:00:00Z", "2026-12-08T15:30:00Z"],
                      sentence="Alicia has these times free (America/New_York): Tue 08 Dec "
                               "10:00 EST; Tue 08 Dec 10:30 EST. Would one of them suit you?")
    lead = extract_lead({"source": "web_form", "payload": {
        "First Name": "Dana", "Email": "dana@kestrelfreight.com", "Company": "Kestrel",
        "Job Title": "CTO", "message": "Our dispatch system fails weekly."}})
    named = "Hi Dana, would Tue 08 Dec 10:00 EST or Tue 08 Dec 10:30 EST suit you?"
    model = ScriptedChatModel(schema_name="OutreachDraft", script=[
        {"subject": "a", "body": named}, {"subject": "b", "body": named},
        {"subject": "c", "body": "Hi Dana, shall we talk this week?"},
        tool_reply("JudgeVerdict", {"winner": "emotional", "reasons": "warmest"})])
    contest = asyncio.run(compete({"lead": lead}, LLM_RUN, "Alicia", model, offer))
    prompts = [str(call[-1].content) for call in model.calls[:3]]
    assert all("Rep's open times (trusted): Tue 08 Dec 10:00 EST; Tue 08 Dec 10:30 EST"
               in p for p in prompts)
    bodies = [v["body"] for v in contest["variants"].values()]
    assert sorted(bodies) == sorted([named, named,
                                     f"Hi Dana, shall we talk this week?\n\n{offer.sentence}"])
