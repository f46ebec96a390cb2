"""Competitive collaboration for the first outreach (SPEC §7): three drafters (data-driven,
emotional, benefit-focused) write the first email, a judge picks one with reasons. The run's
LLM writes and judges when one is configured; offline, templates draft and a rules scorer
judges. Which draft is sent is the outreach bandit's choice (`style_choice.py`: Thompson
sampling per segment, the judge's pick its prior while data is scarce). Every variant is
stored; engagement events later credit the sent one and reward its style."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from leadflow.agents.llm_step import LlmAnswer, ask_llm
from leadflow.agents.style_choice import ArmCounts, BanditSettings, choose_style
from leadflow.config import icp
from leadflow.context import LeadflowContext
from leadflow.llm import RULES, add_usage

if TYPE_CHECKING:
    from leadflow.tools.crm import CrmStore

STYLES = ("data_driven", "emotional", "benefit_focused")
Style = Literal["data_driven", "emotional", "benefit_focused"]


class OutreachDraft(BaseModel):
    """A first outreach email to the lead."""

    subject: str
    body: str


class JudgeVerdict(BaseModel):
    """Which draft to send, and why."""

    winner: Style
    reasons: str


class SlotOffer(BaseModel):
    """The owner's next open slots for the first email: `times` as the lead reads them (the
    rep's local time), `sentence` the rules drafts' offer (reps.yaml `offer_text`)."""

    rep_id: str
    timezone: str
    times: list[str]
    starts: list[str]  # ISO 8601 UTC, what `leadflow book` / POST …/book take
    sentence: str

    def as_prompt_data(self) -> str:
        return "; ".join(self.times)


def with_slots(draft: OutreachDraft, slots: SlotOffer | None) -> OutreachDraft:
    """The draft with the open slots in it: a draft that names every time is kept as written,
    one that does not gets the offer sentence as its last paragraph (the first email always
    carries the times it offers, whoever wrote it)."""
    if slots is None or not slots.times or all(t in draft.body for t in slots.times):
        return draft
    return OutreachDraft(subject=draft.subject, body=f"{draft.body.rstrip()}\n\n{slots.sentence}")


def judge_rules(drafts: dict[str, OutreachDraft], state: dict[str, Any]) -> JudgeVerdict:
    """Score personalisation, grounding in the ask, length and a clear next step; the
    lead's seniority breaks ties (executives → data, operators → benefits)."""
    first, name, ask, _, _ = _facts(state)
    seniority = ((state.get("lead") or {}).get("contact") or {}).get("seniority")
    rules = icp().outreach
    preferred = rules.get("preferred_style_by_seniority", {}).get(
        seniority or "", rules.get("preferred_style_default", "emotional"))

    def score(style: str, draft: OutreachDraft) -> float:
        words = len(draft.body.split())
        return (2 * (first in draft.body) + 2 * (name in draft.body)
                + 2 * bool(ask and ask[:40] in draft.body) + (60 <= words <= 150)
                + draft.body.rstrip().endswith("?") + 0.5 * (style == preferred))

    scores = {style: score(style, d) for style, d in drafts.items()}
    winner = max(STYLES, key=lambda s: (scores.get(s, -1), s == preferred))
    return JudgeVerdict.model_validate({"winner": winner, "reasons": (
        f"rules judge: scores {json.dumps({k: round(v, 1) for k, v in scores.items()})}; "
        f"{seniority or 'unknown'} seniority prefers {preferred}")})


def _facts(state: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """First name, company, the lead's own first sentence, a customer-facing hook and the
    size phrase. The hook comes from facts (their tech stack), never from the
    enrichment's talking points: those are notes to the rep, not words for the lead."""
    lead = state.get("lead") or {}
    contact, company = lead.get("contact") or {}, lead.get("company") or {}
    first = contact.get("first_name") or "there"
    name = company.get("name") or company.get("domain") or "your team"
    ask = re.split(r"(?<=[.!?])\s", (lead.get("inquiry") or "").strip())[0][:160]
    stack = [str(t) for t in company.get("tech_stack") or []][:2]
    hook = (f"your {' and '.join(stack)} setup" if stack
            else f"the way {name} handles it today")
    size = f"{company['employees']:,}-person " if company.get("employees") else ""
    return first, name, ask, hook, size


def draft_rules(style: str, state: dict[str, Any],
                slots: SlotOffer | None = None) -> OutreachDraft:
    """Template drafts: personal, grounded in the lead's words and the enrichment; with
    open slots, the draft ends by offering them (reps.yaml `calendars.offer_text`)."""
    first, name, ask, hook, size = _facts(state)
    asked = f' You wrote: "{ask}"' if ask else ""
    if style == "data_driven":
        body = (f"Hi {first},\n\nThanks for contacting us about {name}.{asked} Teams like a "
                f"{size}{name} usually measure the problem first, starting with {hook}. "
                f"We can show the numbers from similar customers in 30 minutes."
                "\n\nWould Thursday or Friday suit you for a short call?")
        subject = f"{name}: the numbers behind your request"
    elif style == "emotional":
        body = (f"Hi {first},\n\nThank you for reaching out.{asked} That sounds like real "
                f"pressure on you and the team at {name}, and we have helped people in the same "
                "spot get back to something they can trust, without a risky switch."
                "\n\nCould we talk this week about what would take the pressure off first?")
        subject = f"We can help, {first}"
    else:
        body = (f"Hi {first},\n\nThanks for getting in touch about {name}.{asked} In the first "
                f"weeks you would get the outcome you asked for, working with {hook}, "
                "and nothing stopped while you switch.\n\nShall we set up a 30-minute "
                "walkthrough this week?")
        subject = f"What changes for {name} in the first weeks"
    return with_slots(OutreachDraft(subject=subject, body=body), slots)


async def compete(state: dict[str, Any], run: LeadflowContext, rep_name: str,
                  model: BaseChatModel | None = None,
                  slots: SlotOffer | None = None) -> dict[str, Any]:
    """Three drafts and a verdict; LLM where configured, rules otherwise or on failure.
    With `slots`, every draft offers the owner's next open times (given to the LLM drafters
    as data, `{slots}` in their prompt files)."""
    profile = json.dumps({"company": ((state.get("lead") or {}).get("company") or {}).get("name"),
                          "talking_points": (state.get("enrichment") or {}).get("talking_points")},
                         ensure_ascii=False)
    lead_text = ((state.get("lead") or {}).get("inquiry") or "")[:3000]
    flags: list[str] = []
    asked: list[LlmAnswer[Any]] = []  # every LLM answer, for the step's usage

    async def one(style: str) -> tuple[str, OutreachDraft, str]:
        agent = f"outreach_{style}"
        if model is None and run.model_for(agent) == RULES:
            return style, draft_rules(style, state, slots), "rules"
        answer = await ask_llm(agent, run, OutreachDraft, {
            "rep": rep_name, "profile": profile, "lead_text": lead_text,
            "slots": slots.as_prompt_data() if slots and slots.times else "none"}, model)
        asked.append(answer)
        flags.extend(answer.flags)
        if answer.parsed is None:
            return style, draft_rules(style, state, slots), "rules"
        return style, with_slots(answer.parsed, slots), "llm"

    results = await asyncio.gather(*(one(s) for s in STYLES))
    drafts = {style: draft for style, draft, _ in results}
    verdict, judged_by = judge_rules(drafts, state), "rules"
    if model is not None or run.model_for("outreach_judge") != RULES:
        answer = await ask_llm("outreach_judge", run, JudgeVerdict, {
            "lead_text": lead_text,
            "drafts": "\n\n".join(f"[{s}]\nSubject: {d.subject}\n{d.body}"
                                  for s, d in drafts.items())}, model)
        asked.append(answer)
        flags.extend(answer.flags)
        if answer.parsed is not None:
            verdict, judged_by = answer.parsed, "llm"
    return {"variants": {s: d.model_dump() for s, d in drafts.items()},
            "written_by": {style: how for style, _, how in results},
            "chosen": verdict.winner, "reasons": verdict.reasons, "judged_by": judged_by,
            "flags": sorted(set(flags)), **contest_usage(asked)}


def contest_usage(asked: list[LlmAnswer[Any]]) -> dict[str, Any]:
    """What the drafters and the judge spent: `usage` summed over every call, `model` (the
    models, comma-separated, when the agents ran on several), `usage_by_model` (each model's
    share, so its cost is priced at its own rate) and the prompt version."""
    by_model: dict[str, dict[str, int]] = {}
    for answer in asked:
        share = add_usage(by_model.get(answer.model), answer.usage)
        if share is not None:
            by_model[answer.model] = share
    models = sorted({answer.model for answer in asked})
    return {"usage": add_usage(*by_model.values()),
            "model": ", ".join(models) or RULES,
            "usage_by_model": by_model if len(models) > 1 else None,
            "prompt_version": next((a.prompt_version for a in asked), None)}


def choose_sent_draft(state: dict[str, Any], contest: dict[str, Any], crm: CrmStore,
                      settings: BanditSettings) -> dict[str, Any]:
    """The contest with the draft to send: `chosen` the bandit's style, `judge_pick` the
    judge's, `choice` why (the record the sent draft and the outcome keep). A lead whose
    drafts are stored already (a resumed or replayed step) keeps the choice it made."""
    lead_id = state["lead_id"]
    record = crm.sent_choice(lead_id)
    if record is None:
        segment = ((state.get("lead") or {}).get("company") or {}).get("segment") or "unknown"
        counts = {style: ArmCounts(*n) for style, n in crm.style_counts(segment).items()}
        record = choose_style(lead_id, segment, contest["chosen"], STYLES, counts,
                              settings).as_record()
    return {**contest, "chosen": record["style"], "judge_pick": record["judge_pick"],
            "choice": record}
