"""Capture and enrichment with a scripted LLM: when it is asked, how its output is checked,
and the rules fallback."""

from __future__ import annotations

import asyncio
from typing import Any

from leadflow.agents.base import RunConfig
from leadflow.agents.capture import CaptureAgent, extract_lead
from leadflow.agents.enrichment import EnrichmentAgent
from leadflow.toolbox import Toolbox
from tests.llm_fakes import ScriptedChatModel

LLM_RUN = RunConfig(model="scripted:test")
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
