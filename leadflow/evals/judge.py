"""Optional LLM-as-judge for outreach (issue 7): grade the chosen first-outreach email of
every lead that got one against a rubric (leadflow/prompts/eval_outreach_judge), then average
per criterion and per drafting style.

Off unless a judge model is named (`leadflow eval --judge-model`, or
LEADFLOW_EVAL_JUDGE_MODEL): template drafts need no LLM to be checked, and an eval without a
judge must stay offline, free and byte-for-byte comparable with older runs. A failed grading
call is counted, never fatal: the pipeline's scores are the point of the run."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from leadflow.agents.evidence import enrichment_facts
from leadflow.agents.llm_step import ask_llm
from leadflow.agents.outreach import STYLES
from leadflow.context import LeadflowContext
from leadflow.llm import RULES, validate_model_name
from leadflow.settings import LlmSettings
from leadflow.toolbox import Toolbox

JUDGE_AGENT = "eval_outreach_judge"  # prompt folder, model params and breaker key
# The rubric keeps its own version: runs that compare drafter prompt versions must be graded
# by the same rubric, or the deltas measure the rubric.
JUDGE_PROMPT_VERSION = "v1"
CRITERIA = ("personalisation", "accuracy", "clarity", "call_to_action", "tone_fit")
MAX_LEAD_TEXT = 3000  # what the drafters saw (leadflow.agents.outreach cuts the same)


class OutreachGrade(BaseModel):
    """Rubric grade of one outreach email: 1 (poor) to 5 (excellent) per criterion."""

    personalisation: int = Field(ge=1, le=5, description="uses this lead's own facts and ask")
    accuracy: int = Field(ge=1, le=5, description="5 = no claim beyond the lead data/facts")
    clarity: int = Field(ge=1, le=5, description="short, plain, easy to read")
    call_to_action: int = Field(ge=1, le=5, description="one clear, low-effort next step")
    tone_fit: int = Field(ge=1, le=5, description="register fits the contact's seniority")
    rationale: str = Field(description="one or two sentences: main strength and weakness")
    unsupported_claims: list[str] = Field(
        default_factory=list, description="claims about the lead not supported by the data")


def resolve_judge_model(option: str | None) -> str | None:
    """The judge model: the option, else LEADFLOW_EVAL_JUDGE_MODEL; None (off) when neither
    names one or it is `rules`. A malformed name raises ValueError before any lead runs."""
    name = (option if option is not None else LlmSettings.from_env().judge_model).strip()
    if not name or name == RULES:
        return None
    validate_model_name(name)
    return name


@dataclass(frozen=True)
class DraftToGrade:
    """The chosen draft of one lead and the data it may rely on."""

    lead_id: str
    example_id: str | None
    style: str
    written_by: str
    subject: str
    body: str
    lead_text: str
    facts: str


def chosen_draft(tools: Toolbox, outcome: Mapping[str, Any],
                 example_id: str | None) -> DraftToGrade | None:
    """Read the lead's chosen draft from the run's CRM (None when it got no outreach) and the
    facts it may cite: the enriched contact and company from the outcome, the sender, and the
    inquiry the drafters saw."""
    lead_id = outcome.get("lead_id")
    if not lead_id:
        return None
    chosen = next((d for d in tools.crm.drafts_for(lead_id) if d["chosen"]), None)
    if chosen is None:
        return None
    contact, company = outcome.get("contact") or {}, outcome.get("company") or {}
    name = " ".join(filter(None, (contact.get("first_name"), contact.get("last_name"))))
    rep = tools.reps.person((outcome.get("assignment") or {}).get("rep_id") or "")
    facts = "\n".join(filter(None, (
        f"contact: {name or 'unknown'}",
        enrichment_facts({"contact": contact, "company": company}),
        f"segment: {company.get('segment') or 'unknown'}",
        f"sender (our rep): {rep.name}" if rep else "")))
    record = (tools.crm.get_lead(lead_id) or {}).get("record") or {}
    lead_text = (record.get("inquiry") or "").strip()[:MAX_LEAD_TEXT]
    return DraftToGrade(lead_id=lead_id, example_id=example_id, style=chosen["style"],
                        written_by=chosen["written_by"], subject=chosen["subject"],
                        body=chosen["body"], lead_text=lead_text or "(no inquiry text)",
                        facts=facts)


async def grade_draft(draft: DraftToGrade, judge_model: str,
                      model: BaseChatModel | None = None) -> dict[str, Any]:
    """One rubric grade (a JSON-ready dict). On failure: `failure` says which kind and
    `error` why, so the summary can count it."""
    answer = await ask_llm(JUDGE_AGENT, LeadflowContext(judge_model, JUDGE_PROMPT_VERSION),
                           OutreachGrade, {"facts": draft.facts, "lead_text": draft.lead_text,
                                           "subject": draft.subject, "body": draft.body}, model)
    base = {"lead_id": draft.lead_id, "style": draft.style, "written_by": draft.written_by,
            "usage": answer.usage}
    grade = answer.parsed
    if grade is None:
        failure = next((f for f in ("circuit_open", "llm_invalid_output")
                        if f in answer.flags), "llm_error")
        return {**base, "failure": failure, "error": answer.note}
    scores = {c: getattr(grade, c) for c in CRITERIA}
    return {**base, **scores, "overall": round(float(statistics.mean(scores.values())), 4),
            "rationale": grade.rationale[:600], "unsupported_claims": grade.unsupported_claims}


async def grade_drafts(drafts: Sequence[DraftToGrade], judge_model: str, concurrency: int = 4,
                       model: BaseChatModel | None = None) -> list[dict[str, Any]]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(draft: DraftToGrade) -> dict[str, Any]:
        async with semaphore:
            return await grade_draft(draft, judge_model, model)

    return list(await asyncio.gather(*(one(d) for d in drafts)))


def _means(grades: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {c: round(float(statistics.mean(g[c] for g in grades)), 4)
            for c in (*CRITERIA, "overall")}


def summarise_grades(grades: Iterable[Mapping[str, Any]], judge_model: str) -> dict[str, Any]:
    """The run record's `judge` section: means per criterion overall and per drafting style
    (over graded drafts only), failures by kind, and the judge's token use."""
    grades = list(grades)
    ok = [g for g in grades if "failure" not in g]
    styles = [s for s in STYLES if any(g["style"] == s for g in grades)]
    styles += sorted({g["style"] for g in grades} - set(styles))
    by_style = {}
    for style in styles:
        graded = [g for g in ok if g["style"] == style]
        by_style[style] = {"graded": len(graded),
                           "failed": sum(g["style"] == style for g in grades) - len(graded),
                           **(_means(graded) if graded else {})}
    usage = [g.get("usage") or {} for g in grades]
    return {
        "model": judge_model, "prompt_version": JUDGE_PROMPT_VERSION,
        "drafts": len(grades), "graded": len(ok), "failed": len(grades) - len(ok),
        "failures": dict(Counter(g["failure"] for g in grades if "failure" in g)),
        "mean": _means(ok) if ok else {},
        "by_style": by_style,
        "unsupported_claim_rate": round(sum(bool(g["unsupported_claims"]) for g in ok)
                                        / len(ok), 4) if ok else None,
        "tokens": sum(u.get("input_tokens", 0) + u.get("output_tokens", 0) for u in usage),
    }


def judge_metrics(summary: Mapping[str, Any]) -> dict[str, float]:
    """Flat scalars for the run's metrics (reports, `eval compare`): only those with a value,
    so a style nobody chose is absent rather than zero."""
    flat: dict[str, float] = {f"judge_{c}": v for c, v in summary["mean"].items()}
    for style, stats in summary["by_style"].items():
        if "overall" in stats:
            flat[f"judge_{style}_overall"] = stats["overall"]
    if summary["unsupported_claim_rate"] is not None:
        flat["judge_unsupported_claim_rate"] = summary["unsupported_claim_rate"]
    if summary["drafts"]:
        flat["judge_failure_rate"] = round(summary["failed"] / summary["drafts"], 4)
    return flat


# Every name judge_metrics can produce, in report order.
METRIC_NAMES = (*(f"judge_{c}" for c in (*CRITERIA, "overall")),
                *(f"judge_{s}_overall" for s in STYLES),
                "judge_unsupported_claim_rate", "judge_failure_rate")
LOWER_IS_BETTER = {"judge_unsupported_claim_rate", "judge_failure_rate"}
