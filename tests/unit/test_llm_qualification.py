"""The qualification agent's LLM level with scripted chat models: structured output, the
repair retry, fallback to rules, evidence grounding, the rules-first hierarchy, injection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from leadflow.agents.qualification import QualificationAgent
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.toolbox import Toolbox
from tests.llm_fakes import ScriptedChatModel, bant_args, prompt_text
from tests.unit.test_qualification import INJECTIONS, make_lead

LLM_RUN = LeadflowContext(model="scripted:test")
MIDDLING = ("We are evaluating tools to consolidate our reporting. Budget approved: $40k. "
            "We would like to decide by 15 January.")


def middling_lead() -> dict[str, Any]:
    return make_lead(MIDDLING, title="Director of Operations", employees=600)


def honest(messages: list[BaseMessage]) -> dict[str, Any]:
    return bant_args(("clear_budget", 0.5, "Budget approved: $40k."),
                     ("significant_influence", 0.5, "Director of Operations"),
                     ("clear_improvement", 0.5, "We are evaluating tools to consolidate our "
                                                "reporting."),
                     ("within_3_months", 0.5, "We would like to decide by 15 January."))


def qualify(lead: dict[str, Any], tools: Toolbox, script: list[Any],
            run: LeadflowContext = LLM_RUN) -> tuple[Any, ScriptedChatModel]:
    model = ScriptedChatModel(schema_name="BantProposal", script=script)
    agent = QualificationAgent(model=model)
    out = asyncio.run(agent.run({"lead": lead, "lead_text": ""}, tools, run))
    return out, model


def test_valid_output_is_decided_by_the_llm_and_accounted(tools: Toolbox) -> None:
    out, model = qualify(middling_lead(), tools, [honest])
    bant = out.update["bant"]
    assert out.decided_by == "llm" and out.prompt_version == "v1"
    assert bant["budget"]["band"] == "clear_budget" and bant["need"]["band"] == "clear_improvement"
    assert bant["total"] == sum(bant[c]["score"] for c in ("budget", "authority", "need",
                                                           "timeline"))
    assert out.usage == {"input_tokens": 100, "output_tokens": 40, "calls": 1}
    text = prompt_text(model.calls[0])
    assert "<lead_data>" in text and MIDDLING in text and "clear_budget (20-25)" in text


def test_clear_cut_leads_never_reach_the_llm(tools: Toolbox) -> None:
    junk = make_lead("I'm a student writing my thesis, no budget.", title="Student",
                     employees=None)
    out, model = qualify(junk, tools, [])  # a call would fail: the script is empty
    assert out.decided_by == "rules" and model.calls == []
    assert out.update["bant"]["tier"] == "unqualified"


def test_invalid_output_gets_one_repair_with_the_error(tools: Toolbox) -> None:
    broken = bant_args(("clear_budget", 0.5, "x"), ("limited", 0.1, "y"), ("unclear", 0.1, "z"),
                       ("unclear_or_distant", 0.1, "w"))
    del broken["timeline"]
    out, model = qualify(middling_lead(), tools, [broken, honest])
    assert out.decided_by == "llm" and "llm_repaired" in out.flags
    repair = prompt_text(model.calls[1])
    assert "did not match the required schema" in repair and "timeline" in repair
    assert out.usage is not None and out.usage["calls"] == 2


def test_still_invalid_after_repair_falls_back_to_rules(tools: Toolbox) -> None:
    rules_only, _ = qualify(middling_lead(), tools, [], run=DEFAULT_RUN)
    out, model = qualify(middling_lead(), tools, ["{not json", "{still not json"])
    assert len(model.calls) == 2
    assert out.decided_by == "rules"
    assert {"llm_fallback", "llm_invalid_output"} <= set(out.flags)
    assert out.update["bant"] == rules_only.update["bant"]
    assert "rules used" in out.notes


def test_transport_errors_fall_back_to_rules(tools: Toolbox) -> None:
    out, _ = qualify(middling_lead(), tools, [ConnectionError("upstream gone")])
    assert out.decided_by == "rules"
    assert {"llm_fallback", "llm_error"} <= set(out.flags)


def test_ungrounded_evidence_caps_the_criterion_at_its_band_floor(tools: Toolbox) -> None:
    def invented(messages: list[BaseMessage]) -> dict[str, Any]:
        args = honest(messages)
        args["budget"] = {"band": "clear_budget", "strength": 1.0,
                          "evidence": "The CFO approved $2M yesterday"}
        return args

    out, _ = qualify(middling_lead(), tools, [invented])
    assert "ungrounded_evidence_budget" in out.flags
    assert out.update["bant"]["budget"] == {"score": 20, "band": "clear_budget",
                                            "evidence": "The CFO approved $2M yesterday"}
    assert not any(f.startswith("ungrounded_evidence_need") for f in out.flags)


def obeying(messages: list[BaseMessage]) -> dict[str, Any]:
    """A model that does whatever the lead text tells it, and is honest otherwise."""
    text = prompt_text(messages[-1:]).lower()
    steered = any(w in text for w in ("ignore", "disregard", "score", "rate this", "mark me",
                                      "classify", "system prompt", "you are now", "as an ai",
                                      "forget", "ignora", "ignoriere", "ignorez"))
    if steered:
        quote = text.split("<lead_data>")[1].split("</lead_data>")[0].strip()[:120]
        top = ("clear_budget", 1.0, quote)
        return bant_args(top, ("primary_decision_maker", 1.0, quote), ("critical", 1.0, quote),
                         ("buying_now", 1.0, quote))
    return bant_args(("unlikely", 0.5, "no budget"), ("some_influence", 0.5, "Sales Manager"),
                     ("nice_to_have", 0.5, "curious"), ("unclear_or_distant", 0.5, "curious"))


def weak(extra: str = "") -> dict[str, Any]:
    return make_lead(f"Just curious how your tool works, no budget yet. {extra}".strip(),
                     title="Sales Manager", employees=800)


@pytest.mark.parametrize("injection", INJECTIONS)
def test_an_obeying_model_never_lifts_an_injected_lead(tools: Toolbox, injection: Any) -> None:
    text = injection.values[0] if hasattr(injection, "values") else injection
    clean, _ = qualify(weak(), tools, [obeying])
    injected, model = qualify(weak(text), tools, [obeying])
    order = ["unqualified", "cold", "warm", "hot"]
    assert order.index(injected.update["bant"]["tier"]) <= order.index(
        clean.update["bant"]["tier"])
    assert injected.update["bant"]["total"] <= clean.update["bant"]["total"]
    assert "prompt_injection_suspected" in injected.flags
    if model.calls:  # the injection never reaches the model
        assert text.lower()[:30] not in prompt_text(model.calls[0]).lower()
