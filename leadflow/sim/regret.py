"""The outreach bandit's regret on a simulated CRM, exactly, from the ground truth.

For every contacted lead the simulator stores P(reply) had each style been sent
(`sim_truth.truth.reply_by_style`). A policy's regret on that lead is the best style's
P(reply) minus the P(reply) of the style it picks, so the cumulative (pseudo-)regret of the
policy that ran (the bandit) and of two counterfactual ones on the same leads is known
without re-running: uniform random choice (the mean over styles) and the judge alone (the
judge's pick, which the sent draft's `choice` keeps). Weeks count from the first arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadflow.clock import parse_datetime

POLICIES = ("bandit", "uniform", "judge")


@dataclass
class Regret:
    """Cumulative regret per policy, in total and at the end of each simulated week."""

    total: dict[str, float] = field(default_factory=lambda: dict.fromkeys(POLICIES, 0.0))
    weekly: list[dict[str, float]] = field(default_factory=list)  # cumulative, per week
    leads: int = 0
    best_sent: int = 0  # leads the bandit sent the best style

    @property
    def weeks(self) -> int:
        return len(self.weekly)

    def line(self) -> str:
        bandit, uniform, judge = (self.total[p] for p in POLICIES)
        return (f"bandit: regret={bandit:.2f} uniform_regret={uniform:.2f} "
                f"judge_regret={judge:.2f} weeks={self.weeks} "
                f"ratio={bandit / uniform if uniform else 0:.3f} "
                f"judge_ratio={bandit / judge if judge else 0:.3f} leads={self.leads}")


def outreach_regret(truths: Iterable[Mapping[str, Any]],
                    choices: Mapping[str, Mapping[str, Any]]) -> Regret:
    """`truths`: `sim_truth` rows; `choices`: lead id → the sent draft's `choice` record."""
    scored: list[tuple[datetime, dict[str, float]]] = []
    start: datetime | None = None
    out = Regret()
    for row in truths:
        arrived = parse_datetime(row["arrived_at"])
        if arrived is None:
            continue
        start = arrived if start is None or arrived < start else start
        truth = row.get("truth") or {}
        by_style: dict[str, float] = truth.get("reply_by_style") or {}
        sent = truth.get("outreach_style")
        choice = choices.get(row["lead_id"]) or {}
        if not by_style or sent not in by_style:
            continue  # never contacted: no email read, no regret
        best = max(by_style.values())
        judge = choice.get("judge_pick") or sent
        regret = {"bandit": best - by_style[sent],
                  "uniform": best - sum(by_style.values()) / len(by_style),
                  "judge": best - by_style.get(judge, by_style[sent])}
        out.leads += 1
        out.best_sent += by_style[sent] == best
        scored.append((arrived, regret))
    if start is None:
        return out
    for arrived, regret in sorted(scored, key=lambda x: x[0]):
        week = int((arrived - start).total_seconds() // (7 * 86400))
        while len(out.weekly) <= week:
            out.weekly.append(dict(out.total))
        for policy in POLICIES:
            out.total[policy] += regret[policy]
        out.weekly[week] = dict(out.total)
    return out
