"""The market simulator's run (`leadflow simulate`): every simulated lead arrives at its
moment and goes through the real compiled graph; then the simulated reps, sales ops and
prospects act on it through the same entry points people use — `wake_lead` (what `leadflow
event` and `POST /events` call) for engagement events and sweeps, `decide_review` (what
`leadflow review decide` calls) for paused leads — at their simulated moments, on the
toolbox's clock. SLA clocks, reminders, escalations and reassignments therefore happen as in
production.

One event queue in time order drives it: arrivals, rep actions, prospect answers, sweeps
(a cron `followup sweep`, only for untouched leads when a timer is due) and reviews. Every
random draw comes from a stream keyed by (seed, lead number, purpose), so a run depends only
on its seed and its arguments.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import Counter, defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow.clock import iso
from leadflow.followup import Wake, wake_lead
from leadflow.review import ReviewDecision, decide_review
from leadflow.runtime import Runtime
from leadflow.sim.leads import SimLead, generate_leads, stream
from leadflow.sim.market import (
    Market,
    RepBehaviour,
    lead_terms,
    next_working_moment,
    rep_terms,
    stage_probabilities,
    style_effect,
)

# The furthest stage a lead reached, in funnel order.
STAGE_ORDER = ("not_routed", "awaiting_review", "routed", "contacted", "replied",
               "meeting_booked", "closed_lost", "closed_won")
ENGAGEMENT_EVENTS = ("contacted", "replied", "meeting_booked", "closed_won", "closed_lost")
REFERENCE_DELAY_HOURS = 1.0
# --concurrency: the steps due within this window run at once for different leads (each on
# its own moment; one lead's steps in order). What a step planned inside the window
# depends on (a rep's load) may then be seen a little late.
BATCH_WINDOW = timedelta(hours=4)  # p_won_prior: an average rep (skill 0) contacting after an hour

_moment: ContextVar[datetime | None] = ContextVar("sim_moment", default=None)


class SimClock:
    """The toolbox's clock during a simulation: the moment the simulator is at, or, inside a
    lead processed concurrently with others, that lead's own arrival moment."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return _moment.get() or self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


@dataclass
class LeadLife:
    """What the simulator knows and did about one lead."""

    lead: SimLead
    lead_id: str = ""
    tier: str | None = None
    status: str = ""
    region: str = "unassigned"
    segment: str = "unknown"
    rep_id: str | None = None
    generation: int = 0  # bumped on every (re)assignment; older planned actions lapse
    touched_at: datetime | None = None
    escalated: bool = False
    stage: str = "not_routed"
    terms: dict[str, float] = field(default_factory=dict)
    rep_terms: dict[str, float] = field(default_factory=dict)
    probabilities: dict[str, float] = field(default_factory=dict)
    draws: tuple[float, float, float] = (1.0, 1.0, 1.0)  # the prospect's luck per stage
    history: list[str] = field(default_factory=list)  # engagement events posted, in order
    style: str | None = None  # the first email's style the judge chose
    reply_by_style: dict[str, float] = field(default_factory=dict)  # P(reply) per style

    def reached(self, stage: str) -> None:
        if STAGE_ORDER.index(stage) > STAGE_ORDER.index(self.stage):
            self.stage = stage
        if stage in ENGAGEMENT_EVENTS:
            self.history.append(stage)


@dataclass
class SimReport:
    lives: list[LeadLife]
    events: Counter[str]        # engagement events posted, by type
    actions: Counter[str]       # sweeps, reviews, reassignments, skipped wakes
    seconds: float
    busy: dict[str, float]      # seconds spent in the graph, by kind of step
    sim_start: datetime
    sim_end: datetime
    concurrency: int = 1


@dataclass(order=True)
class _Planned:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    index: int = field(compare=False)
    generation: int = field(compare=False, default=0)
    event: str = field(compare=False, default="")


class Simulation:
    def __init__(self, runtime: Runtime, clock: SimClock, market: Market, *, seed: int,
                 days: int, leads_per_day: int, drain_days: int = 0,
                 concurrency: int = 1) -> None:
        self.rt, self.clock, self.market, self.seed = runtime, clock, market, seed
        self.leads = generate_leads(market, seed, days, leads_per_day)
        self.lives = {lead.index: LeadLife(lead) for lead in self.leads}
        self.start = market.start_at()
        self.end = self.start + timedelta(days=days + drain_days)
        self.concurrency = max(1, concurrency)
        self.queue: list[_Planned] = []
        self.seq = itertools.count()
        self.events: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.busy: dict[str, float] = defaultdict(float)

    # --- the event queue -------------------------------------------------------------------
    def plan(self, at: datetime, kind: str, life: LeadLife, event: str = "") -> None:
        if at < self.end:
            heapq.heappush(self.queue, _Planned(at, next(self.seq), kind, life.lead.index,
                                                life.generation, event))

    async def run(self) -> SimReport:
        started = time.perf_counter()
        for lead in self.leads:
            self.plan(lead.arrival, "arrive", self.lives[lead.index])
        while self.queue:
            if self.concurrency > 1:
                await self.window()
                continue
            step = heapq.heappop(self.queue)
            self.clock.set(step.at)
            await self.perform(step)
        await asyncio.to_thread(self.rt.tools.crm.record_sim_truth, self.truth_rows())
        return SimReport(list(self.lives.values()), self.events, self.actions,
                         time.perf_counter() - started, self.busy, self.start, self.end,
                         self.concurrency)

    async def perform(self, step: _Planned) -> None:
        """One planned step, on the clock of its own moment."""
        life = self.lives[step.index]
        if step.kind != "arrive" and step.generation != life.generation:
            self.actions["lapsed"] += 1  # planned for an assignment that has changed
            return
        token = _moment.set(step.at)
        began = time.perf_counter()
        try:
            await getattr(self, step.kind)(step)
        finally:
            _moment.reset(token)
            self.busy[step.kind] += time.perf_counter() - began

    async def window(self) -> None:
        """--concurrency: every step due within BATCH_WINDOW of the next one, each lead's
        steps in order, different leads at once (at most `concurrency`)."""
        first = self.queue[0].at
        self.clock.set(first)
        by_lead: dict[int, list[_Planned]] = defaultdict(list)
        while self.queue and self.queue[0].at - first < BATCH_WINDOW:
            step = heapq.heappop(self.queue)
            by_lead[step.index].append(step)
        gate = asyncio.Semaphore(self.concurrency)

        async def one_lead(steps: list[_Planned]) -> None:
            async with gate:
                for step in steps:
                    await self.perform(step)

        await asyncio.gather(*(one_lead(steps) for steps in by_lead.values()))

    # --- what happens ----------------------------------------------------------------------
    async def arrive(self, step: _Planned) -> None:
        life = self.lives[step.index]
        outcome, _how = await self.rt.runner.process(life.lead.item)
        life.lead_id = outcome["lead_id"]
        life.tier = (outcome.get("bant") or {}).get("tier")
        life.terms = lead_terms(self.market, life.lead.truth)
        company = outcome.get("company") or {}
        life.region = company.get("region") or "unassigned"
        life.segment = company.get("segment") or "unknown"
        rng = stream(self.seed, "prospect", life.lead.index)
        life.draws = (rng.random(), rng.random(), rng.random())
        self.settled(life, outcome, step.at)

    def settled(self, life: LeadLife, outcome: dict[str, Any], at: datetime) -> None:
        """After the pipeline ran: a routed lead gets its rep's plan, a paused one a review."""
        life.status = outcome["status"]
        if "awaiting_review" in (outcome.get("flags") or []):
            life.reached("awaiting_review")
            self.plan(next_working_moment(self.market, life.region, at + timedelta(
                hours=self.market.review_after_hours)), "review", life)
        elif life.status == "awaiting_followup" and outcome.get("assignment"):
            self.assigned(life, outcome["assignment"]["rep_id"], at)

    def assigned(self, life: LeadLife, rep_id: str, at: datetime) -> None:
        """A (new) owner: plan the first contact, and the sweeps that would find it missing."""
        life.rep_id = rep_id
        life.generation += 1
        life.reached("routed")
        sla = self.rt.tools.crm.sla_for(life.lead_id)
        if sla is not None:
            for due in (sla["remind_at"], sla["escalate_at"]):
                self.plan(self.next_sweep(max(due, at)), "sweep", life)
        behaviour, region = self.behaviour(rep_id, life)
        rng = stream(self.seed, "rep", life.lead.index, life.generation)
        if rng.random() >= behaviour.contact_rate:
            return  # never touches it: the sweeps remind, then escalate
        delay = timedelta(minutes=rng.lognormvariate(
            math.log(behaviour.delay_median_minutes), behaviour.delay_sigma))
        contact = next_working_moment(self.market, region, at + delay)
        if contact != at + delay:  # the rep opens the inbox, and gets to it
            contact += timedelta(minutes=rng.uniform(0, 60))
        rep = self.rt.tools.reps.get(rep_id)
        if rep is not None and not self.rt.tools.reps.available(rep, contact.date()):
            return  # out of office by then: a sweep hands it on
        self.plan(contact, "event", life, "contacted")

    def chosen_style(self, life: LeadLife) -> str | None:
        """The first email's style the outreach judge chose for this lead (in the CRM)."""
        drafts = self.rt.tools.crm.drafts_for(life.lead_id)
        return next((d["style"] for d in drafts if d.get("chosen")), None)

    def behaviour(self, rep_id: str, life: LeadLife) -> tuple[RepBehaviour, str]:
        rep = self.rt.tools.reps.get(rep_id)
        if rep is None:  # a region's manager owns it
            return self.market.rep(rep_id, manager=True), life.region
        return self.market.rep(rep_id), rep.region

    def next_sweep(self, moment: datetime) -> datetime:
        """The first cron sweep at or after `moment` (every `sweep_every_minutes`)."""
        every = timedelta(minutes=self.market.sweep_every_minutes)
        ticks = math.ceil((moment - self.start) / every)
        return self.start + ticks * every

    async def wake(self, life: LeadLife, wake: Wake) -> dict[str, Any] | None:
        try:
            outcome = await wake_lead(self.rt.graph, life.lead_id, wake, self.rt.tools,
                                      self.rt.context)
        except ValueError:
            self.actions["not_waiting"] += 1
            return None
        life.status = outcome["status"]
        return outcome

    async def event(self, step: _Planned) -> None:
        """A rep reports an engagement event (what `leadflow event` / POST /events do)."""
        life = self.lives[step.index]
        kind = step.event
        if await self.wake(life, Wake(event=kind, at=iso(step.at), rep_id=life.rep_id)) is None:  # type: ignore[arg-type]
            return
        self.events[kind] += 1
        life.reached(kind)
        market, at = self.market, step.at
        rng = stream(self.seed, "pace", life.lead.index, kind)
        region = self.behaviour(life.rep_id or "", life)[1]

        def after(stage: str) -> datetime:
            return at + timedelta(hours=rng.lognormvariate(
                math.log(market.delays_hours[stage]), 0.8))

        def give_up(days: float) -> datetime:
            return next_working_moment(market, region, at + timedelta(days=days))

        if kind == "contacted":
            life.touched_at = at
            skill = self.behaviour(life.rep_id or "", life)[0].skill
            hours = (at - life.lead.arrival).total_seconds() / 3600
            life.rep_terms = rep_terms(market, skill, hours)
            z = sum(life.terms.values()) + sum(life.rep_terms.values())
            segment = life.lead.truth["segment"]
            life.style = self.chosen_style(life)
            life.reply_by_style = {
                style: stage_probabilities(market, z, style_effect(market, segment, style))[
                    "reply"] for style in market.outreach_styles.get(segment) or {}}
            life.probabilities = stage_probabilities(
                market, z, style_effect(market, segment, life.style))
            if life.draws[0] < life.probabilities["reply"]:
                self.plan(after("reply"), "event", life, "replied")
            else:
                self.plan(give_up(market.no_reply_close_days), "event", life, "closed_lost")
        elif kind == "replied":
            if life.draws[1] < life.probabilities["meeting_given_reply"]:
                self.plan(after("meeting"), "event", life, "meeting_booked")
            else:
                self.plan(give_up(market.no_meeting_close_days), "event", life, "closed_lost")
        elif kind == "meeting_booked":
            won = life.draws[2] < life.probabilities["won_given_meeting"]
            self.plan(next_working_moment(market, region, after("close")), "event", life,
                      "closed_won" if won else "closed_lost")

    async def sweep(self, step: _Planned) -> None:
        """A cron sweep finds this untouched lead with a timer due: remind, escalate, or hand
        it on when its rep is out of office."""
        life = self.lives[step.index]
        if life.touched_at is not None:
            return
        self.actions["sweep_wakes"] += 1
        outcome = await self.wake(life, Wake(sweep=True, at=iso(step.at)))
        if outcome is None:
            return
        owner = (outcome.get("assignment") or {}).get("rep_id")
        if owner and owner != life.rep_id:
            self.actions["out_of_office_reassignments"] += 1
            self.assigned(life, owner, step.at)
        elif outcome["status"] == "escalated" and not life.escalated:
            life.escalated = True
            rng = stream(self.seed, "manager", life.lead.index, life.generation)
            if rng.random() < self.market.manager_reassign_probability:
                self.plan(step.at + timedelta(hours=self.market.manager_reassign_after_hours),
                          "reassign", life)

    async def reassign(self, step: _Planned) -> None:
        """The region's manager hands an escalated, untouched lead to another rep."""
        life = self.lives[step.index]
        if life.touched_at is not None:
            return
        reps = self.rt.tools.reps
        candidates = [r.id for r in reps.reps if r.region == life.region
                      and life.segment in r.segments and r.id != life.rep_id
                      and reps.available(r, step.at.date())]
        if not candidates:
            return
        rng = stream(self.seed, "reassign", life.lead.index, life.generation)
        new_rep = rng.choice(candidates)
        outcome = await self.wake(life, Wake(event="reassigned", rep_id=new_rep,
                                             at=iso(step.at)))
        if outcome is not None:
            self.actions["manager_reassignments"] += 1
            self.assigned(life, new_rep, step.at)

    async def review(self, step: _Planned) -> None:
        """Sales ops approve a paused lead's proposal (`leadflow review decide … approve`)."""
        life = self.lives[step.index]
        decision = ReviewDecision(action="approve", reviewer="simulated sales ops",
                                  note="simulated review")
        try:
            outcome = await decide_review(self.rt.graph, self.rt.tools, life.lead_id, decision,
                                          self.rt.context)
        except ValueError:
            self.actions["review_not_possible"] += 1
            return
        self.actions["reviews"] += 1
        self.settled(life, outcome, step.at)

    # --- the ground truth ------------------------------------------------------------------
    def truth_rows(self) -> list[dict[str, Any]]:
        rows = []
        for life in self.lives.values():
            if not life.lead_id:
                continue
            prior_z = sum(life.terms.values()) + sum(
                rep_terms(self.market, 0.0, REFERENCE_DELAY_HOURS).values())
            prior = stage_probabilities(self.market, prior_z)
            rows.append({
                "lead_id": life.lead_id, "seed": self.seed, "item_id": life.lead.item["id"],
                "arrived_at": life.lead.arrival, "p_won_prior": prior["won"],
                "p_won": life.probabilities.get("won"), "outcome": life.stage,
                "truth": {**life.lead.truth, "terms": life.terms, "rep_terms": life.rep_terms,
                          "probabilities": life.probabilities, "prior_probabilities": prior,
                          "tier_seen": life.tier, "status": life.status,
                          "rep_id": life.rep_id, "escalated": life.escalated,
                          "events": life.history, "outreach_style": life.style,
                          "reply_by_style": life.reply_by_style,
                          "first_touch_at": iso(life.touched_at) if life.touched_at else None},
            })
        return rows
