"""What the promoted model's score may do (`scoring:` in icp.yaml, docs/models.md).

`advise` (the default): the score orders reps' queues and rides in their notifications; the
rules' tier stands. `blend`: the score may also move a lead one tier, within the tiers the
rules hand to a rep, when its probability is far from what its tier implies:

- up one tier (warm → hot) when the lead is in the model's top quarter (priority `A`) AND its
  probability reaches the conversion rate the training leads of the tier above showed;
- down one tier (hot → warm) when it is in the bottom quarter (`D`) AND its probability is
  no higher than the training leads of the tier below showed.

Both conditions, so a move needs the model's ordering and its calibrated probability to
agree. Never out of the rep tiers (a demoted lead would leave the reps' hands, and the model
would stop seeing what it would have done; a cold lead is one the model never learned from),
never a lead a person decided on (any `human_…` flag) or one under review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from leadflow.config import CONFIG_DIR, read_yaml

MODES = ("advise", "blend")


class ScoringPolicy(BaseModel):
    """icp.yaml `scoring:`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["advise", "blend"] = "advise"


def load_policy(path: Path | None = None) -> ScoringPolicy:
    """The `scoring:` section; a wrong value is one ValueError line naming the key."""
    raw = read_yaml(path or CONFIG_DIR / "icp.yaml").get("scoring") or {}
    if not isinstance(raw, dict):
        raise ValueError("icp.yaml scoring: must be a mapping (e.g. `scoring: {mode: advise}`)")
    try:
        return ScoringPolicy(**raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        key = ".".join(str(p) for p in problem["loc"])
        if key == "mode":
            raise ValueError(f"icp.yaml scoring.mode: {raw.get('mode')!r} is not one of "
                             f"{', '.join(MODES)}") from None
        raise ValueError(f"icp.yaml scoring.{key}: {problem['msg']}") from None


@cache
def scoring_policy() -> ScoringPolicy:
    return load_policy()


@dataclass(frozen=True)
class TierMove:
    """A tier the model moved, and why (kept in the outcome's `conversion.tier_change`)."""

    before: str
    after: str
    reason: str

    direction: str  # up | down

    def as_dict(self) -> dict[str, str]:
        return {"from": self.before, "to": self.after, "direction": self.direction,
                "reason": self.reason}


def person_decided(flags: Iterable[str], steps: Sequence[Mapping[str, Any]] = ()) -> bool:
    """A person reviewed this lead: the model never overrides them."""
    return (any(str(f).startswith("human_") for f in flags)
            or any(s.get("decided_by") == "human" for s in steps))


def blended_tier(tier: str | None, probability: float, priority: str,
                 rep_tiers: Sequence[str], tier_rates: Mapping[str, float]) -> TierMove | None:
    """The one-step move the score calls for (None: the tier stands). `rep_tiers`: the
    tiers the rules hand to a rep, best first; `tier_rates`: each tier's conversion rate
    among the model's training leads."""
    if tier is None or tier not in rep_tiers:
        return None
    at = list(rep_tiers).index(tier)
    if priority == "A" and at > 0:
        above = rep_tiers[at - 1]
        rate = tier_rates.get(above)
        if rate is not None and probability >= rate:
            return TierMove(tier, above, direction="up", reason=(
                f"conversion model: {probability:.0%} is in its top quarter (A) and at least "
                f"the {rate:.0%} its {above} training leads converted"))
    if priority == "D" and at + 1 < len(rep_tiers):
        below = rep_tiers[at + 1]
        rate = tier_rates.get(below)
        if rate is not None and probability <= rate:
            return TierMove(tier, below, direction="down", reason=(
                f"conversion model: {probability:.0%} is in its bottom quarter (D) and no "
                f"more than the {rate:.0%} its {below} training leads converted"))
    return None


def rep_tiers_best_first(tier_order: Sequence[str], assign_tiers: Iterable[str]) -> list[str]:
    """The rep tiers in the order of icp.yaml's `tiers` (best first)."""
    wanted = set(assign_tiers)
    return [t for t in tier_order if t in wanted]


def priority_note(conversion: Mapping[str, Any] | None) -> str:
    """' — priority A (62 %)': what a notification about a scored lead says of its score."""
    if not conversion or not conversion.get("priority"):
        return ""
    return (f" — priority {conversion['priority']} "
            f"({float(conversion.get('probability') or 0):.0%})")
