"""MEDDIC's LLM level with scripted chat models: its own prompt and schema, the rules-first
hierarchy, evidence grounding, the fallback to rules, and the injection guard (SPEC §4.3)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from leadflow.agents.meddic import MEDDIC_CRITERIA
from leadflow.agents.qualification import QualificationAgent
from leadflow.config.meddic import meddic_rules
from leadflow.context import LeadflowContext
from leadflow.toolbox import Toolbox
from tests.llm_fakes import ScriptedChatModel, prompt_text
from tests.unit.test_qualification import INJECTIONS, make_lead

LLM_RUN = LeadflowContext(model="scripted:test", framework="meddic")
RULES_RUN = LeadflowContext(model="rules", framework="meddic")
MIDDLING = ("We are evaluating tools to consolidate our reporting. "
            "We would like to decide by 15 January.")
STRONGEST = {n: meddic_rules()[n].bands[0].name for n in MEDDIC_CRITERIA}


def middling_lead(extra: str = "") -> dict[str, Any]:
    return make_lead(f"{MIDDLING} {extra}".strip(), title="Director of Operations",
                     employees=600)


def meddic_args(**parts: tuple[str, float, str]) -> dict[str, Any]:
    args = {n: {"band": meddic_rules()[n].bands[-1].name, "strength": 0.0,
                "evidence": "We are evaluating tools to consolidate our reporting."}
            for n in MEDDIC_CRITERIA}
    for name, (band, strength, evidence) in parts.items():
        args[name] = {"band": band, "strength": strength, "evidence": evidence}
    return {**args, "conflicts": []}


def honest(messages: list[BaseMessage]) -> dict[str, Any]:
    return meddic_args(
        decision_criteria=("some", 0.5, "We are evaluating tools to consolidate our reporting."),
        decision_process=("partial", 0.5, "We would like to decide by 15 January."),
        economic_buyer=("reachable", 0.5, "Director of Operations"),
        identify_pain=("clear", 0.5, "consolidate our reporting"))


def eager(messages: list[BaseMessage]) -> dict[str, Any]:
    """A model that rates every lead as strongly as it can, quoting the lead's first words."""
    lead = prompt_text(messages[-1:]).split("<lead_data>")[1].split("</lead_data>")[0]
    quote = lead.strip().split(".")[0]
    return meddic_args(**{n: (band, 1.0, quote) for n, band in STRONGEST.items()})


def qualify(lead: dict[str, Any], tools: Toolbox, script: list[Any],
            run: LeadflowContext = LLM_RUN) -> tuple[Any, ScriptedChatModel]:
    model = ScriptedChatModel(schema_name="MeddicProposal", script=script)
    out = asyncio.run(QualificationAgent(model=model).run({"lead": lead, "lead_text": ""},
                                                          tools, run))
    return out, model


def test_the_llm_gets_the_meddic_prompt_and_schema_and_decides(tools: Toolbox) -> None:
    rules_only, _ = qualify(middling_lead(), tools, [], run=RULES_RUN)
    assert 30 < rules_only.update["bant"]["total"] < 88  # not clear-cut: the LLM is asked
    out, model = qualify(middling_lead(), tools, [honest])
    result = out.update["bant"]
    assert out.decided_by == "llm" and out.prompt_version == "v1"
    assert result["framework"] == "MEDDIC"
    assert result["decision_process"] == {"score": 13, "band": "partial",
                                          "evidence": "We would like to decide by 15 January."}
    assert result["total"] == meddic_rules().scaled(sum(result[n]["score"]
                                                        for n in MEDDIC_CRITERIA))
    assert out.usage == {"input_tokens": 100, "output_tokens": 40, "calls": 1}
    text = prompt_text(model.calls[0])
    assert "MEDDIC framework" in text and "MeddicProposal" in text
    assert "quantified (16-20)" in text and "champion: strong (16-20)" in text
    assert "<lead_data>" in text and MIDDLING in text
    assert "clear_budget" not in text  # not the BANT prompt


def test_clear_cut_leads_never_reach_the_llm(tools: Toolbox) -> None:
    junk = make_lead("I'm a student writing my thesis.", title="Student", employees=None)
    out, model = qualify(junk, tools, [])  # a call would fail: the script is empty
    assert out.decided_by == "rules" and model.calls == []
    assert out.update["bant"]["tier"] == "unqualified"


def test_ungrounded_evidence_drops_the_criterion_to_its_band_floor(tools: Toolbox) -> None:
    def invented(messages: list[BaseMessage]) -> dict[str, Any]:
        args = honest(messages)
        args["metrics"] = {"band": "quantified", "strength": 1.0,
                           "evidence": "Reporting errors cost us $2M last year"}
        return args

    out, _ = qualify(middling_lead(), tools, [invented])
    assert "ungrounded_evidence_metrics" in out.flags
    assert out.update["bant"]["metrics"] == {"score": 16, "band": "quantified",
                                             "evidence": "Reporting errors cost us $2M last year"}
    assert not any(f.startswith("ungrounded_evidence_decision") for f in out.flags)


def test_invalid_output_twice_falls_back_to_the_meddic_rules(tools: Toolbox) -> None:
    rules_only, _ = qualify(middling_lead(), tools, [], run=RULES_RUN)
    out, model = qualify(middling_lead(), tools, ["{not json", "{still not json"])
    assert len(model.calls) == 2 and out.decided_by == "rules"
    assert {"llm_fallback", "llm_invalid_output"} <= set(out.flags)
    assert out.update["bant"] == rules_only.update["bant"]
    assert out.update["bant"]["framework"] == "MEDDIC"


def test_an_eager_model_does_lift_a_lead_that_has_no_injection(tools: Toolbox) -> None:
    """Guards the injection test below: this model raises scores when nothing stops it."""
    rules_only, _ = qualify(middling_lead(), tools, [], run=RULES_RUN)
    out, _ = qualify(middling_lead(), tools, [eager])
    assert out.decided_by == "llm"
    assert out.update["bant"]["total"] > rules_only.update["bant"]["total"] + 20


@pytest.mark.parametrize("injection", INJECTIONS)
def test_an_injection_never_lifts_the_score_whatever_the_model_says(tools: Toolbox,
                                                                    injection: str) -> None:
    clean, _ = qualify(middling_lead(), tools, [], run=RULES_RUN)
    out, model = qualify(middling_lead(injection), tools, [eager])
    assert "prompt_injection_suspected" in out.flags
    assert out.update["bant"]["total"] <= clean.update["bant"]["total"]
    order = ["unqualified", "cold", "warm", "hot"]
    assert order.index(out.update["bant"]["tier"]) <= order.index(clean.update["bant"]["tier"])
    for name in MEDDIC_CRITERIA:
        assert out.update["bant"][name]["score"] <= clean.update["bant"][name]["score"]
    if model.calls:  # the injected sentence never reaches the model
        assert injection.lower()[:30] not in prompt_text(model.calls[0]).lower()
