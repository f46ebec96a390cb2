"""The engagement events a rep reports on a lead after routing, and what each one means for
the follow-up clock, the engagement level and the conversion funnel (SPEC §4.5, §9)."""

from __future__ import annotations

from typing import Literal

EventType = Literal["contacted", "replied", "meeting_booked", "closed_won", "closed_lost",
                    "reassigned"]
# Events that count as the rep's first touch (they stop the SLA clock).
TOUCHES = ("contacted", "replied", "meeting_booked")
# Events that mean the lead answered the first email (the outreach bandit's reward: a reply,
# or a later stage that implies one); `closed_lost` before any of them is a no-reply.
REPLY_EVENTS = ("replied", "meeting_booked", "closed_won")
ENGAGEMENT_LEVEL = {"contacted": 1, "replied": 2, "meeting_booked": 3, "closed_won": 4,
                    "closed_lost": 0}
# Funnel stages after "assigned to a rep": a lead counts at every stage up to the furthest
# event it reached, so each stage holds the next one.
FUNNEL = (
    ("contacted", "Contacted", (*TOUCHES, "closed_won")),
    ("meeting", "Meeting booked", ("meeting_booked", "closed_won")),
    ("opportunity", "Opportunity (closed won)", ("closed_won",)),
)
