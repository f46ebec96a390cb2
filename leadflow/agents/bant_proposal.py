"""What a BANT proposer returns, the rules and the LLM alike: per criterion a band, a strength
inside it and the evidence; the LLM's structured output schema (SPEC §4.3). The policy that
clamps and sums it is `qualification.score_bant`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CriterionProposal(BaseModel):
    band: str = Field(description="one of the criterion's band names")
    strength: float = Field(ge=0.0, le=1.0, description="position inside the band")
    evidence: str = Field(description="a quote from the lead or a fact from enrichment")


class BantProposal(BaseModel):
    """BANT assessment of one lead: band, strength and evidence for each criterion."""

    budget: CriterionProposal
    authority: CriterionProposal
    need: CriterionProposal
    timeline: CriterionProposal
    conflicts: list[str] = Field(default_factory=list)
