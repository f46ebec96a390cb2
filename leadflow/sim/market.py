"""The simulated market's ground truth (`leadflow/config/market.yaml`), typed, and the
conversion arithmetic on it: a lead's propensity z (logit) as a sum of named terms, and the
funnel stage probabilities σ(z + stage offset).

Pure functions of the config and the lead's drawn attributes: nothing here touches the CRM or
the graph, so a trainer or a test can recompute any lead's truth from the stored terms."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leadflow.clock import parse_datetime
from leadflow.config import CONFIG_DIR, read_yaml

MARKET_FILE = CONFIG_DIR / "market.yaml"
STAGES = ("reply", "meeting", "won")
BANT_CRITERIA = ("budget", "need", "timeline")  # authority is the seniority


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Level(_Model):
    weight: float
    effect: float
    phrases: tuple[str, ...]


class CriterionTruth(_Model):
    omit_rate: float = 0.0
    levels: dict[str, Level]


class Campaign(_Model):
    name: str
    weight: float = 1.0
    effect: float = 0.0


class MadeUpCompanies(_Model):
    words: tuple[str, ...]
    nouns: tuple[str, ...]
    suffixes: tuple[str, ...] = ("",)
    employees: tuple[int, ...]


class Hidden(_Model):
    channel: dict[str, float]
    industry: dict[str, float]
    segment: dict[str, float]
    region: dict[str, float]
    response_delay_per_log_hour: float


class WorkingHours(_Model):
    utc_offset: float
    start: int
    end: int


class RepBehaviour(_Model):
    skill: float = 0.0
    contact_rate: float = 1.0
    delay_median_minutes: float = 60.0
    delay_sigma: float = 1.0


class Market(_Model):
    start: str
    channels: dict[str, float]
    weekday_weight: float = 1.0
    hour_weights: tuple[float, ...] = Field(min_length=24, max_length=24)
    regions: dict[str, float]
    unknown_company_rate: float = 0.0
    freemail_rate: float = 0.0
    freemail_domains: tuple[str, ...] = ("gmail.com",)
    made_up_companies: MadeUpCompanies
    campaigns: dict[str, tuple[Campaign, ...]]
    seniority: dict[str, float]
    titles: dict[str, tuple[str, ...]]
    bant: dict[str, CriterionTruth]
    authority: dict[str, float]
    amounts: tuple[int, ...]
    hidden: Hidden
    outreach_styles: dict[str, dict[str, float]] = Field(default_factory=dict)
    noise_sd: float = 0.0
    base: float = 0.0
    stages: dict[str, float]
    working_hours: dict[str, WorkingHours]
    default_rep: RepBehaviour
    manager: RepBehaviour
    reps: dict[str, RepBehaviour] = Field(default_factory=dict)
    delays_hours: dict[str, float]
    no_reply_close_days: float
    no_meeting_close_days: float
    manager_reassign_probability: float = 0.0
    manager_reassign_after_hours: float = 4.0
    review_after_hours: float = 3.0
    sweep_every_minutes: float = 15.0

    def start_at(self) -> datetime:
        moment = parse_datetime(self.start)
        if moment is None:
            raise ValueError(f"market.yaml start: {self.start!r} is not an ISO date-time")
        return moment.astimezone(UTC)

    def rep(self, rep_id: str, *, manager: bool = False) -> RepBehaviour:
        if manager:
            return self.manager
        return self.reps.get(rep_id, self.default_rep)

    def campaign(self, channel: str, name: str) -> Campaign:
        for campaign in self.campaigns.get(channel, ()):
            if campaign.name == name:
                return campaign
        return Campaign(name=name)


def load_market(path: Path | None = None) -> Market:
    """market.yaml (or another file of that shape), validated."""
    return _load(path or MARKET_FILE)


@cache
def _load(path: Path) -> Market:
    raw: dict[str, Any] = read_yaml(path)
    try:
        market = Market.model_validate(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    for name in STAGES:
        if name not in market.stages:
            raise ValueError(f"{path}: stages needs {', '.join(STAGES)}")
    for name in BANT_CRITERIA:
        if name not in market.bant:
            raise ValueError(f"{path}: bant needs {', '.join(BANT_CRITERIA)}")
    return market


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def lead_terms(market: Market, truth: dict[str, Any]) -> dict[str, float]:
    """The terms of a lead's propensity known when it arrives: base, each BANT-visible level,
    each hidden attribute, and its noise draw (`truth` as `leads.draw_lead` makes it)."""
    levels = truth["levels"]
    hidden = market.hidden
    terms = {"base": market.base}
    for name in BANT_CRITERIA:
        terms[name] = market.bant[name].levels[levels[name]].effect
    terms["authority"] = market.authority.get(truth["seniority"], 0.0)
    terms["channel"] = hidden.channel.get(truth["channel"], 0.0)
    terms["campaign"] = market.campaign(truth["channel"], truth["campaign"]).effect
    terms["industry"] = hidden.industry.get(truth["industry"], 0.0)
    terms["segment"] = hidden.segment.get(truth["segment"], 0.0)
    terms["region"] = hidden.region.get(truth["region"], 0.0)
    terms["noise"] = float(truth["noise"])
    return terms


def rep_terms(market: Market, skill: float, delay_hours: float) -> dict[str, float]:
    """The terms the rep adds once it makes first contact: its skill and its delay."""
    return {"rep_skill": skill,
            "response_delay": market.hidden.response_delay_per_log_hour
            * math.log1p(max(0.0, delay_hours))}


def style_effect(market: Market, segment: str, style: str | None) -> float:
    """The first email's style's effect on the reply, for a company of this segment."""
    return (market.outreach_styles.get(segment) or {}).get(style or "", 0.0)


def stage_probabilities(market: Market, z: float, reply_effect: float = 0.0) -> dict[str, float]:
    """P(reply | contacted), P(meeting | replied), P(won | meeting), and their products
    P(meeting | contacted) and P(won | contacted). `reply_effect`: the first email's style."""
    reply, meeting, won = (sigmoid(z + market.stages[s] + (reply_effect if s == "reply" else 0))
                           for s in STAGES)
    return {"reply": reply, "meeting_given_reply": meeting, "won_given_meeting": won,
            "meeting": reply * meeting, "won": reply * meeting * won}


def next_working_moment(market: Market, region: str, moment: datetime) -> datetime:
    """The first moment at or after `moment` inside the region's working hours (Mon–Fri)."""
    hours = market.working_hours.get(region) or market.working_hours["unassigned"]
    offset = timedelta(hours=hours.utc_offset)
    local = moment + offset
    for _ in range(8):
        opening = local.replace(hour=hours.start, minute=0, second=0, microsecond=0)
        closing = local.replace(hour=hours.end, minute=0, second=0, microsecond=0)
        if local.weekday() < 5 and local < closing:
            return max(local, opening) - offset
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise AssertionError("a working day is within a week")
