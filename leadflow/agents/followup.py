"""Follow-up (FollowUp Monitor): start the SLA clock for an assigned lead (hot: first touch
within 1 h, warm: 24 h — icp.yaml) and leave it `awaiting_followup`. Reminders, escalation
after 24 h without response and engagement events build on this record.

A lead of a tier that gets meetings offered (reps.yaml `calendars.offer_tiers`, hot by
default) whose owner has a calendar gets the owner's next open slots in its first email. A
calendar that cannot be read leaves the lead as routed as it was, flagged
`calendar_unavailable`, and tells operations; the email then proposes a call without times."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import ClassVar

from langchain_core.language_models import BaseChatModel

from leadflow.agents.base import StepOutput
from leadflow.agents.outreach import SlotOffer, choose_sent_draft, compete
from leadflow.agents.style_choice import BanditSettings
from leadflow.clock import parse_datetime
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools.calendar import CalendarUnavailable
from leadflow.tools.notifier import Notice


class FollowUpAgent:
    step: ClassVar[str] = "followup"

    def __init__(self, escalate_after_s: float | None = None,
                 model: BaseChatModel | None = None) -> None:
        self.escalate_after_s = escalate_after_s
        self.model = model  # a fixed chat model for the drafters and judge (tests, apps)

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        out = await asyncio.to_thread(self._start_clock, state, tools)
        if out.outcome != "success":
            return out
        # A meeting at first touch: the owner's next open slots, offered in the first email.
        slots, trouble = await asyncio.to_thread(offer_slots, state, tools)
        # Competitive collaboration (SPEC §7): three drafts of the first email, one chosen.
        rep = tools.reps.person((state.get("assignment") or {}).get("rep_id") or "")
        contest = await compete(dict(state), run, rep.name if rep else "your rep", self.model,
                                slots)
        # Which draft is sent: the outreach bandit, the judge's pick as its prior.
        contest = await asyncio.to_thread(
            choose_sent_draft, dict(state), contest, tools.crm,
            BanditSettings.from_outreach(tools.icp.outreach))
        await asyncio.to_thread(tools.crm.store_drafts, state["lead_id"], contest,
                                tools.clock.now())
        chosen, choice = contest["variants"][contest["chosen"]], contest["choice"]
        out.update["outreach"] = {"chosen": contest["chosen"], "subject": chosen["subject"],
                                  "chosen_by": choice["chosen_by"],
                                  "judge_pick": contest["judge_pick"],
                                  "judged_by": contest["judged_by"],
                                  "reasons": contest["reasons"],
                                  "segment": choice["segment"],
                                  "posterior": choice.get("posterior") or {},
                                  "slots": slots.starts if slots else [],
                                  "slots_timezone": slots.timezone if slots else None}
        out.flags = [*out.flags, *contest["flags"], *(["calendar_unavailable"] if trouble else [])]
        out.notes += (f"; first email: {contest['chosen']} ({choice['chosen_by']}; "
                      f"{contest['judged_by']} judge picked {contest['judge_pick']})")
        if slots:
            out.notes += f"; offers {len(slots.starts)} slots of {slots.rep_id}"
        elif trouble:
            out.notes += f"; no slots offered: {trouble}"
        # The SLA clock is the rules' decision; the drafters' and judge's calls are this
        # step's LLM cost (model, prompt version, usage), whoever chose the email.
        out.model, out.prompt_version = contest["model"], contest["prompt_version"]
        out.usage, out.usage_by_model = contest["usage"], contest["usage_by_model"]
        return out

    def _start_clock(self, state: LeadState, tools: Toolbox) -> StepOutput:
        assignment = state.get("assignment") or {}
        tier = (state.get("bant") or {}).get("tier", "warm")
        sla = tools.icp.sla
        hours = sla["first_touch_hours"].get(tier)
        if not assignment.get("rep_id") or hours is None:
            return StepOutput("failure", error=f"no SLA for tier {tier!r} without an assignment")
        started = parse_datetime(assignment.get("assigned_at")) or tools.clock.now()
        due = started + timedelta(hours=float(hours))
        remind = due - timedelta(minutes=float(sla["reminder_before_minutes"].get(tier, 0)))
        escalate_after = (self.escalate_after_s
                          or float(sla["escalate_after_hours"]) * 3600)
        record = tools.crm.start_sla(
            lead_id=state["lead_id"], rep_id=assignment["rep_id"], tier=tier, started_at=started,
            due_at=due, remind_at=remind, escalate_at=started + timedelta(seconds=escalate_after),
        )
        lead = {**state["lead"], "next_action_at": record["due_at"]}
        return StepOutput(
            "success",
            {"sla": record, "lead": lead, "status": "awaiting_followup",
             "status_reason": f"first touch due {record['due_at']} ({tier}: {hours} h)"},
            notes=f"SLA started: first touch due {record['due_at']}",
        )


def offer_slots(state: LeadState, tools: Toolbox) -> tuple[SlotOffer | None, str | None]:
    """(the owner's next open slots, None), or (None, why the calendar failed); (None, None)
    when no slots are due: a tier without offers, an owner without a calendar (or a
    manager), no open time within the horizon."""
    rules = tools.reps.calendar_rules
    tier = (state.get("bant") or {}).get("tier")
    rep = tools.reps.get((state.get("assignment") or {}).get("rep_id") or "")
    if tier not in rules.offer_tiers or rep is None or not tools.calendar.enabled(rep):
        return None, None
    now = tools.clock.now()
    try:
        found = tools.calendar.open_slots(rep, now)
    except CalendarUnavailable as exc:
        reason = str(exc)
        tools.notifier.send(Notice(
            audience="operations", subject=f"Calendar unavailable: no slots offered to "
                                           f"{state['lead_id']}",
            body=f"{reason}. The lead is routed to {rep.name} as usual; its first email "
                 f"proposes a call without times. Its slots: GET /leads/{state['lead_id']}"
                 "/slots (or `leadflow slots`) once the calendar is back."),
            lead_id=state["lead_id"], step="followup:calendar", now=now)
        return None, reason
    if not found:
        return None, None
    times = [slot.local(rules.local_format) for slot in found]
    zone = tools.reps.timezone(rep)
    return SlotOffer(rep_id=rep.id, timezone=zone.key, times=times,
                     starts=[slot.as_dict()["start"] for slot in found],
                     sentence=rules.offer_text.format(rep_name=rep.name, zone=zone.key,
                                                      times="; ".join(times))), None
