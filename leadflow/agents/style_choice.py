"""Which drafted first email is sent: Thompson sampling per segment over the three styles.

The reward of a sent first email is 1 when the lead replied to it or went further (a
`replied`, `meeting_booked` or `closed_won` event), 0 when it was closed lost before any of
those; a lead still in flight counts for nothing yet. Why a reply and not a meeting: the
style is what the email changes, a reply is the first thing it moves, it comes days sooner
and three times as often, and a meeting implies one.

Each (segment, style) arm has a Beta posterior: Beta(prior + replies, prior + no replies),
from the CRM's running counts (`outreach_style_counts`, moved when the events are recorded,
never a scan). While a segment has little data the judge's pick for this lead leads: it gets
`judge_pseudo_replies` extra replies that fade linearly to none once the segment has
`judge_fade_outcomes` outcomes. An exploration floor keeps every style alive: with
probability `floor × 3` a style is drawn uniformly, so each is sent with at least `floor`.

Every draw comes from a generator seeded by the lead id: the same lead on the same counts
makes the same choice (and a resumed lead reuses the choice it stored).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ChosenBy = Literal["bandit", "exploration", "judge"]


class BanditSettings(BaseModel):
    """icp.yaml `outreach.bandit`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    prior: tuple[float, float] = (1.0, 1.0)  # Beta(replies, no replies) every arm starts from
    judge_pseudo_replies: float = Field(default=3.0, ge=0)
    judge_fade_outcomes: float = Field(default=50.0, gt=0)
    floor: float = Field(default=0.05, ge=0)

    @model_validator(mode="after")
    def _sensible(self) -> BanditSettings:
        if min(self.prior) <= 0:
            raise ValueError("outreach.bandit.prior: both pseudo-counts must be positive")
        return self

    @classmethod
    def from_outreach(cls, outreach: Mapping[str, Any]) -> BanditSettings:
        return cls.model_validate(outreach.get("bandit") or {})

    def check_floor(self, arms: int) -> None:
        if self.floor * arms > 1:
            raise ValueError(f"outreach.bandit.floor {self.floor} × {arms} styles exceeds 1")


@dataclass(frozen=True)
class ArmCounts:
    """The outcomes of one segment × style so far."""

    replies: int = 0
    no_replies: int = 0

    @property
    def n(self) -> int:
        return self.replies + self.no_replies


@dataclass(frozen=True)
class StyleChoice:
    """The style sent, why, and the posteriors the draw used."""

    style: str
    chosen_by: ChosenBy
    judge_pick: str
    segment: str
    judge_weight: float  # the pseudo-replies the judge's pick had
    posterior: dict[str, dict[str, float]]  # style → {mean, n} of the draw's Beta

    def as_record(self) -> dict[str, Any]:
        return {"style": self.style, "chosen_by": self.chosen_by, "judge_pick": self.judge_pick,
                "segment": self.segment, "judge_weight": round(self.judge_weight, 3),
                "posterior": self.posterior}


def lead_rng(lead_id: str) -> random.Random:
    """The lead's own generator: the same lead id always draws the same numbers."""
    digest = hashlib.sha256(f"outreach-style:{lead_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def judge_weight(settings: BanditSettings, outcomes: int) -> float:
    """The judge's pseudo-replies once the segment has `outcomes` real ones."""
    return settings.judge_pseudo_replies * max(0.0, 1.0 - outcomes / settings.judge_fade_outcomes)


def beta_parameters(settings: BanditSettings, counts: Mapping[str, ArmCounts],
                    styles: Sequence[str],
                    judge_pick: str | None) -> dict[str, tuple[float, float]]:
    """(α, β) per style: the prior, the segment's outcomes, the judge's fading pseudo-replies."""
    weight = judge_weight(settings, sum(c.n for c in counts.values()))
    a0, b0 = settings.prior
    out = {}
    for style in styles:
        arm = counts.get(style, ArmCounts())
        out[style] = (a0 + arm.replies + (weight if style == judge_pick else 0.0),
                      b0 + arm.no_replies)
    return out


def choose_style(lead_id: str, segment: str, judge_pick: str, styles: Sequence[str],
                 counts: Mapping[str, ArmCounts], settings: BanditSettings) -> StyleChoice:
    """Thompson sampling with an exploration floor, on the lead's own generator."""
    params = beta_parameters(settings, counts, styles, judge_pick)
    weight = judge_weight(settings, sum(c.n for c in counts.values()))
    posterior = {s: {"mean": round(a / (a + b), 4), "n": counts.get(s, ArmCounts()).n}
                 for s, (a, b) in params.items()}
    if not settings.enabled:
        return StyleChoice(judge_pick, "judge", judge_pick, segment, weight, posterior)
    settings.check_floor(len(styles))
    rng = lead_rng(lead_id)
    if rng.random() < settings.floor * len(styles):
        return StyleChoice(rng.choice(list(styles)), "exploration", judge_pick, segment, weight,
                           posterior)
    draws = {s: rng.betavariate(a, b) for s, (a, b) in params.items()}
    style = max(styles, key=lambda s: draws[s])
    return StyleChoice(style, "bandit", judge_pick, segment, weight, posterior)


# --- what the report shows -----------------------------------------------------------------

def posteriors(rows: Sequence[Mapping[str, Any]], styles: Sequence[str],
               settings: BanditSettings) -> dict[str, dict[str, dict[str, Any]]]:
    """segment → style → {n, replies, sent, mean, low, high} (a 90 % interval) from the
    running counts (`outreach_style_counts` rows), without any judge's pseudo-replies: what
    the data alone says of each arm."""
    summed: dict[str, dict[str, Counter[str]]] = {}
    for row in rows:
        arm = summed.setdefault(row["segment"], {}).setdefault(row["style"], Counter())
        for key in ("sent", "replies", "no_replies"):
            arm[key] += int(row[key])
    a0, b0 = settings.prior
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for segment in sorted(summed):
        out[segment] = {}
        for style in styles:
            arm = summed[segment].get(style, Counter())
            a, b = a0 + arm["replies"], b0 + arm["no_replies"]
            low, high = beta_interval(a, b)
            out[segment][style] = {"n": arm["replies"] + arm["no_replies"],
                                   "replies": arm["replies"], "sent": arm["sent"],
                                   "mean": round(a / (a + b), 4), "low": round(low, 4),
                                   "high": round(high, 4)}
    return out


def traffic_by_week(rows: Sequence[Mapping[str, Any]], styles: Sequence[str],
                    segment: str | None = None) -> list[dict[str, Any]]:
    """Per ISO week of sending: the sends and each style's share of them (one segment, or
    all)."""
    weeks: dict[str, Counter[str]] = {}
    for row in rows:
        if segment is None or row["segment"] == segment:
            weeks.setdefault(row["week"], Counter())[row["style"]] += int(row["sent"])
    out = []
    for week in sorted(weeks):
        sent = sum(weeks[week].values())
        out.append({"week": week, "sent": sent,
                    "share": {s: round(weeks[week][s] / sent, 4) if sent else 0.0
                              for s in styles}})
    return out


# --- a Beta posterior's interval ------------------------------------------------------------

def beta_interval(a: float, b: float, mass: float = 0.9) -> tuple[float, float]:
    """The central `mass` interval of Beta(a, b) (equal tails)."""
    tail = (1 - mass) / 2
    return beta_quantile(a, b, tail), beta_quantile(a, b, 1 - tail)


def beta_quantile(a: float, b: float, p: float) -> float:
    """x with I_x(a, b) = p, by bisection (the CDF is monotone; 60 halvings ≈ 1e-18)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if regularized_beta(mid, a, b) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the Beta(a, b) CDF: the continued fraction (modified Lentz), on the side
    where it converges fast."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h
