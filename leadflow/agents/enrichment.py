"""Enrichment (DataEnrichment Specialist): look the company up in the knowledge base, fill
firmographics, score data quality (four 1–5 scores) and write talking points.
Unknown company → proceed with limited data, flagged."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from leadflow.agents.base import StepOutput
from leadflow.agents.evidence import strip_injection
from leadflow.agents.llm_step import ask_llm, provenance
from leadflow.config import IcpConfig, standardize_tables
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.llm import RULES
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools.knowledge_base import KbMatch
from leadflow.tools.standardize import first_matching

QUALITY_KEYS = ("contact_completeness", "company_intelligence", "decision_maker", "technology_fit")
_SENIORITY_SCORE = {"c_level": 5, "vp": 4, "director": 3, "manager": 2,
                    "individual_contributor": 1, "unknown": 1}


class DataQuality(BaseModel):
    contact_completeness: int = Field(ge=1, le=5)
    company_intelligence: int = Field(ge=1, le=5)
    decision_maker: int = Field(ge=1, le=5)
    technology_fit: int = Field(ge=1, le=5)


class EnrichmentSummary(BaseModel):
    """The writer's structured output: a summary and 2–4 talking points."""

    summary: str
    talking_points: list[str] = Field(min_length=2, max_length=4)


def _scale(count: int, out_of: int) -> int:
    """count/out_of → 1..5."""
    return max(1, min(5, 1 + round(4 * count / out_of))) if out_of else 1


def score_quality(record: dict[str, Any], target_tech: tuple[str, ...]) -> DataQuality:
    contact, company = record["contact"], record["company"]
    contact_fields = ("first_name", "last_name", "email", "phone", "title")
    company_fields = ("industry", "employees", "revenue_usd", "country", "tech_stack", "funding",
                      "recent_news")
    targets = {t.lower() for t in target_tech}
    stack = {t.lower() for t in company.get("tech_stack") or []}
    overlap = len(stack & targets)
    return DataQuality(
        contact_completeness=_scale(sum(bool(contact.get(f)) for f in contact_fields),
                                    len(contact_fields)),
        company_intelligence=_scale(
            sum(bool(company.get(f)) and company.get(f) != "other" for f in company_fields),
            len(company_fields)),
        decision_maker=_SENIORITY_SCORE.get(contact.get("seniority") or "unknown", 1),
        technology_fit=1 if not stack else min(5, 2 + overlap),
    )


def write_rules(record: dict[str, Any], match: KbMatch | None) -> EnrichmentSummary:
    """Deterministic summary and talking points from the profile and the inquiry."""
    company, contact = record["company"], record["contact"]
    name = company.get("name") or company.get("domain") or "the company"
    size = f"{company['employees']:,} employees" if company.get("employees") else "unknown size"
    industry = (company.get("industry") or "unknown industry").replace("_", " ")
    summary = (f"{name}: {industry}, {size}, {company.get('region') or 'unassigned'} "
               f"({company.get('country') or 'country unknown'}).")
    if match is None:
        summary += " Not in the knowledge base: limited data."
    points: list[str] = []
    for news in (company.get("recent_news") or [])[:2]:
        points.append(f"Recent news: {news}")
    stack = company.get("tech_stack") or []
    if stack:
        points.append(f"Runs {', '.join(stack[:3])}: lead with integrations they already use.")
    if record.get("inquiry"):
        points.append(f"They asked: \"{record['inquiry'][:120].strip()}\"")
    if contact.get("title"):
        points.append(f"Speak to the {contact['title']}'s priorities "
                      f"({(contact.get('department') or 'business').replace('_', ' ')}).")
    points.append(f"Position for a {company.get('segment') or 'unknown'}-segment "
                  f"{industry} buyer.")
    if len(points) < 2:
        points.append("Ask how they handle this today and what prompted the inquiry.")
    return EnrichmentSummary(summary=summary, talking_points=points[:4])


def merge_profile(record: dict[str, Any], match: KbMatch | None, rules: IcpConfig,
                  size_from_text: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Fill missing company fields from the profile; stated values win, conflicts are flagged.
    A size capture read from prose (`size_from_text`: "our 30 salespeople", "a team of 45")
    may be a team's, not the company's: the profile's headcount wins over it."""
    company = dict(record["company"])
    if size_from_text and match is not None and match.profile.get("employees"):
        company["employees"] = None
    flags: list[str] = []
    if match is None:
        flags = ["unknown_company", "limited_data"]
        if company.get("industry") in (None, "other"):
            # No profile: read the industry off the company's name, else the inquiry.
            for clue in (company.get("name"), record.get("inquiry")):
                guess = first_matching(standardize_tables().industry, (clue or "")[:600])
                if guess:
                    company["industry"] = guess
                    flags.append("industry_inferred")
                    break
        return {**record, "company": company}, flags
    profile = match.profile
    stated_segment = company.get("segment")
    for key in ("name", "domain", "industry", "employees", "revenue_usd", "country", "funding"):
        if company.get(key) in (None, "", "other"):
            company[key] = profile.get(key)
    company["tech_stack"] = list(company.get("tech_stack") or profile.get("tech_stack") or [])
    company["recent_news"] = list(profile.get("recent_news") or [])
    company["website"] = company.get("website") or f"https://{profile['domain']}"
    company["region"] = rules.region_for(company.get("country"))
    kb_segment = rules.segment_for(profile.get("employees"))
    company["segment"] = rules.segment_for(company.get("employees")) \
        if company.get("employees") is not None else kb_segment
    if stated_segment not in (None, "unknown") and stated_segment != kb_segment \
            and not size_from_text:
        flags.append("conflicting_size_data")
    return {**record, "company": company}, flags


class EnrichmentAgent:
    """Lookup, merge and quality scores are code; the summary and talking points come from
    the run's LLM when one is configured, else from the rules writer."""

    step: ClassVar[str] = "enrichment"

    def __init__(self, model: BaseChatModel | None = None) -> None:
        self.model = model  # a fixed chat model (tests, apps); else the run's model

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        record = state["lead"]
        company = record["company"]
        match = await asyncio.to_thread(
            tools.kb.lookup, company.get("name"), company.get("domain"), company.get("country")
        )
        enriched, flags = merge_profile(record, match, tools.icp,
                                        "headcount_from_text" in (state.get("flags") or []))
        quality = score_quality(enriched, tools.icp.target_tech)
        written, answer = write_rules(enriched, match), None
        if self.model is not None or run.model_for(self.step) != RULES:
            company = enriched["company"]
            answer = await ask_llm(self.step, run, EnrichmentSummary, {
                "profile": json.dumps({k: company.get(k) for k in (
                    "name", "domain", "industry", "employees", "revenue_usd", "country",
                    "funding", "tech_stack", "recent_news")}, ensure_ascii=False,
                    default=str) if match else "not in the knowledge base",
                "quality": json.dumps(quality.model_dump()),
                "lead_text": "\n".join(filter(None, (
                    f"{enriched['contact'].get('title') or ''}".strip(),
                    strip_injection(enriched.get("inquiry") or "", tools.icp)[0])))[:4000],
            }, self.model)
            flags += answer.flags
            if answer.parsed is not None:
                written = answer.parsed
        enrichment = {
            "matched": match is not None,
            "match_method": match.method if match else None,
            "match_confidence": match.confidence if match else 0.0,
            "profile_domain": match.profile["domain"] if match else None,
            "quality": quality.model_dump(),
            "summary": written.summary,
            "talking_points": written.talking_points,
        }
        notes = (f"matched {match.profile['name']} by {match.method} ({match.confidence:.2f})"
                 if match else "company not in the knowledge base: limited data")
        if answer and answer.note:
            notes += f"; {answer.note}"
        return StepOutput("success", {"lead": enriched, "enrichment": enrichment},
                          notes=notes, flags=flags,
                          decided_by="llm" if answer and answer.parsed else "rules",
                          **provenance(answer))
