"""MEDDIC, the second qualification framework (SPEC §4.3): its proposal schema and its
scoring policy (the rules proposer is `meddic_rules.py`, the step `meddic_step.py`).

Six criteria — Metrics, Economic buyer, Decision criteria, Decision process, Identify pain,
Champion — each proposed as a band, a strength within it and an evidence quote or fact, as
BANT's are. Code clamps each score into its band (icp.yaml `meddic:`), sums, scales the sum to
0–100 and assigns the same tiers as BANT.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

from pydantic import BaseModel, Field

from leadflow.agents.bant_proposal import CriterionProposal
from leadflow.agents.qualification import CRITERIA, ground
from leadflow.config import IcpConfig, icp
from leadflow.config.meddic import MEDDIC_CRITERIA, MeddicRules, meddic_rules

__all__ = ["MEDDIC_CRITERIA", "MeddicProposal", "score_meddic",
           "ground_meddic", "never_above_meddic", "meddic_conflict_changes_tier",
           "meddic_band_guide", "criteria_of", "criterion_maxima"]


class MeddicProposal(BaseModel):
    """MEDDIC assessment of one lead: band, strength and evidence for each criterion."""

    metrics: CriterionProposal
    economic_buyer: CriterionProposal
    decision_criteria: CriterionProposal
    decision_process: CriterionProposal
    identify_pain: CriterionProposal
    champion: CriterionProposal
    conflicts: list[str] = Field(default_factory=list)


def criteria_of(result: dict[str, Any] | None) -> tuple[str, ...]:
    """The criteria a qualification result (state `bant`, outcome `bant`) was scored on."""
    return MEDDIC_CRITERIA if (result or {}).get("framework") == "MEDDIC" else CRITERIA


def criterion_maxima(result: dict[str, Any] | None) -> dict[str, int]:
    """Each criterion of the result's framework with the most points it can score."""
    if criteria_of(result) == MEDDIC_CRITERIA:
        return {n: max(b.high for b in meddic_rules()[n].bands) for n in MEDDIC_CRITERIA}
    return {n: max(b.high for b in icp().bant[n].bands) for n in CRITERIA}


# ------------------------------------------------------------------------------ policy


def score_meddic(proposal: MeddicProposal, rules: MeddicRules,
                 icp_rules: IcpConfig) -> dict[str, Any]:
    """The policy: clamp each proposed score into its band, sum, scale to 0–100, tier."""
    result: dict[str, Any] = {"framework": "MEDDIC"}
    points = 0
    for name in MEDDIC_CRITERIA:
        criterion = rules[name]
        prop: CriterionProposal = getattr(proposal, name)
        try:
            band = criterion.band(prop.band)
        except KeyError:  # unknown band name: the weakest band, never a guess upward
            band = criterion.bands[-1]
        strength = 0.0 if math.isnan(prop.strength) else min(1.0, max(0.0, prop.strength))
        score = max(band.low, min(band.high, band.low + round(strength * (band.high - band.low))))
        points += score
        result[name] = {"score": score, "band": band.name, "evidence": prop.evidence}
    result["total"] = rules.scaled(points)
    result["tier"] = icp_rules.tier_for(result["total"])
    result["conflicts"] = list(proposal.conflicts)
    return result


def ground_meddic(proposal: MeddicProposal, source: str) -> tuple[MeddicProposal, list[str]]:
    """BANT's grounding over MEDDIC's six criteria."""
    return ground(proposal, source, MEDDIC_CRITERIA)


def never_above_meddic(result: dict[str, Any], ceiling: dict[str, Any], rules: MeddicRules,
                       icp_rules: IcpConfig) -> dict[str, Any]:
    """Per criterion, the lower of two scorings; total and tier recomputed."""
    capped = dict(result)
    for name in MEDDIC_CRITERIA:
        if result[name]["score"] > ceiling[name]["score"]:
            capped[name] = ceiling[name]
    capped["total"] = rules.scaled(sum(capped[name]["score"] for name in MEDDIC_CRITERIA))
    capped["tier"] = icp_rules.tier_for(capped["total"])
    return capped


def meddic_conflict_changes_tier(result: dict[str, Any], rules: MeddicRules,
                                 icp_rules: IcpConfig) -> bool:
    """Would reading the contested criteria either way (the middle of the strongest and of
    the weakest band) give another tier? Only then is a person asked (SPEC §7)."""
    contested = sorted({c.split(":", 1)[0].strip() for c in result.get("conflicts") or ()})
    if not contested or any(name not in MEDDIC_CRITERIA for name in contested):
        return True  # a conflict we cannot re-score: a person looks
    rest = sum(result[n]["score"] for n in MEDDIC_CRITERIA if n not in contested)
    readings = product(*[(rules[n].bands[0], rules[n].bands[-1]) for n in contested])
    tiers = {icp_rules.tier_for(rules.scaled(rest + sum((b.low + b.high) // 2 for b in bands)))
             for bands in readings}
    return len(tiers) > 1


def meddic_band_guide(rules: MeddicRules) -> str:
    return "\n".join(
        f"{name}: " + ", ".join(f"{b.name} ({b.low}-{b.high})" for b in rules[name].bands)
        for name in MEDDIC_CRITERIA)
