"""The qualification step when the run chose MEDDIC (`framework=meddic`, SPEC §4.3).

The same hierarchy and guards as BANT's: the rules score every lead; clear-cut ones stop
there, the rest go to the run's LLM with the MEDDIC prompt (`prompts/qualification_meddic/`),
which only proposes bands and evidence. Evidence not found in the lead or the enrichment facts
drops its criterion to the band's floor, and a lead whose text tried to steer the scorer is
never scored above its rules score. The result goes to the same state key (`bant`) with
`framework: MEDDIC`, so routing, follow-up and review read its `tier` as they read BANT's.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from leadflow.agents.base import StepOutput
from leadflow.agents.evidence import enrichment_facts, strip_injection
from leadflow.agents.llm_step import ask_llm
from leadflow.agents.meddic import (
    MeddicProposal,
    ground_meddic,
    meddic_band_guide,
    meddic_conflict_changes_tier,
    never_above_meddic,
    score_meddic,
)
from leadflow.agents.meddic_rules import propose_meddic
from leadflow.agents.qualification import qualified, review_reason, words_around_injections
from leadflow.config import IcpConfig, model_settings
from leadflow.config.meddic import MeddicRules, meddic_rules
from leadflow.context import LeadflowContext
from leadflow.llm import RULES
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox

STEP = "qualification"  # same step, model and settings as BANT; only the prompt differs
PROMPT = "qualification_meddic"
SHORT = {"metrics": "M", "economic_buyer": "E", "decision_criteria": "DC",
         "decision_process": "DP", "identify_pain": "I", "champion": "C"}


async def qualify_meddic(state: LeadState, tools: Toolbox, run: LeadflowContext,
                         model: BaseChatModel | None = None,
                         rules: MeddicRules | None = None) -> StepOutput:
    lead = state["lead"]
    rules = rules or meddic_rules()
    raw_text = "\n".join(filter(None, (lead.get("inquiry"), state.get("lead_text"))))
    text, injected = strip_injection(raw_text, tools.icp)
    by_rules = score_meddic(propose_meddic(lead, text, rules, tools.icp, tools.clock.now()),
                            rules, tools.icp)
    if injected and (around := words_around_injections(raw_text, tools.icp)) is not None:
        # the lead's own answers after an injection may lower a score, never raise it
        by_rules = never_above_meddic(by_rules, score_meddic(propose_meddic(
            lead, around, rules, tools.icp, tools.clock.now()), rules, tools.icp),
            rules, tools.icp)
    flags = ["prompt_injection_suspected"] if injected else []
    result, decided_by, answer = by_rules, "rules", None
    if (model or run.model_for(STEP) != RULES) and not _clear_cut(by_rules):
        answer = await ask_llm(STEP, run, MeddicProposal, {
            "bands": meddic_band_guide(rules),
            "received_at": (lead.get("source") or {}).get("received_at") or "unknown",
            "facts": enrichment_facts(lead), "lead_text": text[:8000],
        }, model, prompt_name=PROMPT)
        flags += answer.flags
        if answer.parsed is not None:
            proposal, ungrounded = ground_meddic(answer.parsed,
                                                 f"{text}\n{enrichment_facts(lead)}")
            flags += ungrounded
            result, decided_by = score_meddic(proposal, rules, tools.icp), "llm"
            if injected:  # the text tried to steer the scorer: the LLM may only lower
                result = never_above_meddic(result, by_rules, rules, tools.icp)
    if result["conflicts"]:
        flags.append("conflicting_signals")
    review = meddic_review_reason(result, lead, text, tools.icp, rules)
    return qualified(result, SHORT, decided_by, flags, review, answer)


def meddic_review_reason(result: dict[str, Any], lead: dict[str, Any], text: str,
                         icp_rules: IcpConfig, rules: MeddicRules) -> str | None:
    """The same review limits as BANT (icp.yaml `review`): a big deal, or contradictory
    signals on a lead headed for a rep that could change its tier."""
    big_deal = review_reason({**result, "conflicts": []}, lead, text, icp_rules)
    if big_deal:
        return big_deal
    if (result.get("conflicts")
            and result["tier"] in icp_rules.review.get("conflicting_tiers", ())
            and meddic_conflict_changes_tier(result, rules, icp_rules)):
        return "conflicting_signals"
    return None


def _clear_cut(result: dict[str, Any]) -> bool:
    """Leads the rules decide alone (thresholds in models.yaml `hierarchy`, on 0-100)."""
    limits = model_settings()["hierarchy"]["qualification"]
    return bool(result["total"] <= limits["clear_unqualified_max"]
                or result["total"] >= limits["clear_hot_min"])
