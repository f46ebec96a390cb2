"""The outreach bandit's sampler (leadflow/agents/style_choice.py): the judge's pick as a
fading prior, the exploration floor, reproducible draws per lead, convergence on a synthetic
two-arm market, the report's posteriors and traffic, and the simulator's regret."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from leadflow.agents.style_choice import (
    ArmCounts,
    BanditSettings,
    beta_interval,
    beta_parameters,
    beta_quantile,
    choose_style,
    judge_weight,
    posteriors,
    traffic_by_week,
)
from leadflow.config import icp
from leadflow.sim.regret import outreach_regret

STYLES = ("data_driven", "emotional", "benefit_focused")
SETTINGS = BanditSettings()


def shares(counts: dict[str, ArmCounts], judge: str = "emotional", n: int = 3000,
           settings: BanditSettings = SETTINGS) -> Counter[str]:
    return Counter(choose_style(f"LEAD-{i}", "smb", judge, STYLES, counts, settings).style
                   for i in range(n))


def test_the_shipped_settings_are_valid() -> None:
    settings = BanditSettings.from_outreach(icp().outreach)
    assert settings.enabled and 0 < settings.floor * len(STYLES) <= 1
    with pytest.raises(ValueError):
        BanditSettings.model_validate({"prior": [0, 1]})
    with pytest.raises(ValueError):
        BanditSettings.model_validate({"flor": 0.1})  # a typo is an error, not a default


def test_without_data_the_judges_pick_leads_and_fades_as_outcomes_accumulate() -> None:
    empty: dict[str, ArmCounts] = {}
    params = beta_parameters(SETTINGS, empty, STYLES, "emotional")
    assert params["emotional"] == (1 + SETTINGS.judge_pseudo_replies, 1)
    assert params["data_driven"] == params["benefit_focused"] == (1, 1)
    early = shares(empty)
    assert early["emotional"] / 3000 > 0.6  # the judge's pick, far above a third
    assert min(early.values()) / 3000 > SETTINGS.floor  # the others still get sent
    # half-way through the fade half the pseudo-replies, none after it
    assert judge_weight(SETTINGS, int(SETTINGS.judge_fade_outcomes / 2)) == pytest.approx(
        SETTINGS.judge_pseudo_replies / 2)
    assert judge_weight(SETTINGS, 10 ** 6) == 0
    even = {s: ArmCounts(30, 30) for s in STYLES}  # 180 outcomes: the judge weighs nothing
    late = shares(even)
    assert all(abs(late[s] / 3000 - 1 / 3) < 0.05 for s in STYLES), late


def test_the_exploration_floor_keeps_every_style_alive() -> None:
    lopsided = {"data_driven": ArmCounts(900, 100), "emotional": ArmCounts(0, 1000),
                "benefit_focused": ArmCounts(0, 1000)}
    n = 6000
    got = shares(lopsided, judge="emotional", n=n, settings=BanditSettings(floor=0.05))
    for style in ("emotional", "benefit_focused"):
        assert abs(got[style] / n - 0.05) < 0.015, got  # the floor and hardly more
    reasons = Counter(choose_style(f"LEAD-{i}", "smb", "emotional", STYLES, lopsided,
                                   SETTINGS).chosen_by for i in range(n))
    assert abs(reasons["exploration"] / n - 0.15) < 0.02 and reasons["bandit"] > 0
    assert shares(lopsided, n=500, settings=BanditSettings(floor=0))["data_driven"] == 500
    with pytest.raises(ValueError, match="exceeds 1"):
        choose_style("LEAD-1", "smb", "emotional", STYLES, {}, BanditSettings(floor=0.4))


def test_the_same_lead_draws_the_same_style_and_other_leads_differ() -> None:
    counts = {s: ArmCounts(5, 5) for s in STYLES}
    first = choose_style("LEAD-abc", "smb", "emotional", STYLES, counts, SETTINGS)
    assert choose_style("LEAD-abc", "smb", "emotional", STYLES, counts, SETTINGS) == first
    assert len({choose_style(f"LEAD-{i}", "smb", "emotional", STYLES, counts,
                             SETTINGS).style for i in range(40)}) == 3
    record = first.as_record()
    assert record["segment"] == "smb" and record["judge_pick"] == "emotional"
    assert set(record["posterior"]) == set(STYLES)
    assert record["posterior"]["emotional"]["n"] == 10


def test_switched_off_the_judge_decides() -> None:
    off = BanditSettings(enabled=False)
    picks = [choose_style(f"LEAD-{i}", "smb", "benefit_focused", STYLES,
                          {"data_driven": ArmCounts(100, 0)}, off) for i in range(50)]
    assert {(p.style, p.chosen_by) for p in picks} == {("benefit_focused", "judge")}


def test_it_converges_on_a_synthetic_two_arm_market() -> None:
    """Arm b replies 50 %, arm a 30 %; the judge backs the worse one. After 1500 leads the
    better arm gets most of the traffic and the regret is a fraction of uniform choice's."""
    arms, truth = ("a", "b"), {"a": 0.3, "b": 0.5}
    world = random.Random(7)
    counts = {s: ArmCounts() for s in arms}
    sent: list[str] = []
    for i in range(1500):
        style = choose_style(f"LEAD-{i:05d}", "smb", "a", arms, counts, SETTINGS).style
        sent.append(style)
        replied = world.random() < truth[style]
        arm = counts[style]
        counts[style] = ArmCounts(arm.replies + replied, arm.no_replies + (not replied))
    regret = sum(truth["b"] - truth[s] for s in sent)
    uniform = len(sent) * (truth["b"] - sum(truth.values()) / 2)
    assert sent[-500:].count("b") / 500 > 0.85
    assert regret < uniform / 3


def test_beta_quantiles_match_the_closed_forms() -> None:
    for p in (0.05, 0.3, 0.95):
        assert beta_quantile(2, 1, p) == pytest.approx(math.sqrt(p), abs=1e-9)
        assert beta_quantile(1, 7, p) == pytest.approx(1 - (1 - p) ** (1 / 7), abs=1e-9)
        assert beta_quantile(1, 1, p) == pytest.approx(p, abs=1e-9)
    low, high = beta_interval(60, 40)
    assert low < 0.6 < high and high - low == pytest.approx(2 * 1.645 * math.sqrt(
        0.6 * 0.4 / 101), rel=0.02)  # ≈ the normal approximation at this size


def test_the_report_reads_posteriors_and_traffic_from_the_counts() -> None:
    rows = [{"segment": "smb", "style": "emotional", "week": "2026-W44", "sent": 8,
             "replies": 4, "no_replies": 2},
            {"segment": "smb", "style": "emotional", "week": "2026-W45", "sent": 2,
             "replies": 1, "no_replies": 1},
            {"segment": "smb", "style": "data_driven", "week": "2026-W45", "sent": 6,
             "replies": 0, "no_replies": 3},
            {"segment": "enterprise", "style": "data_driven", "week": "2026-W44", "sent": 2,
             "replies": 0, "no_replies": 0}]
    arms = posteriors(rows, STYLES, SETTINGS)
    assert arms["smb"]["emotional"] | {"low": 0, "high": 0} == {
        "n": 8, "replies": 5, "sent": 10, "mean": round(6 / 10, 4), "low": 0, "high": 0}
    assert arms["smb"]["benefit_focused"]["n"] == 0 and arms["smb"]["benefit_focused"][
        "mean"] == 0.5
    assert arms["enterprise"]["data_driven"]["sent"] == 2
    weeks = traffic_by_week(rows, STYLES)
    assert [(w["week"], w["sent"]) for w in weeks] == [("2026-W44", 10), ("2026-W45", 8)]
    assert weeks[1]["share"] == {"data_driven": 0.75, "emotional": 0.25,
                                 "benefit_focused": 0.0}
    assert traffic_by_week(rows, STYLES, "enterprise")[0]["share"]["data_driven"] == 1.0


def test_regret_is_scored_exactly_per_policy_and_week() -> None:
    start = datetime(2026, 10, 5, tzinfo=UTC)
    by_style = {"data_driven": 0.2, "emotional": 0.5, "benefit_focused": 0.35}
    truths = [
        {"lead_id": "L1", "arrived_at": start, "truth": {
            "outreach_style": "emotional", "reply_by_style": by_style}},
        {"lead_id": "L2", "arrived_at": start + timedelta(days=8), "truth": {
            "outreach_style": "data_driven", "reply_by_style": by_style}},
        {"lead_id": "L3", "arrived_at": start + timedelta(days=9), "truth": {
            "outreach_style": None, "reply_by_style": {}}},  # never contacted
    ]
    choices = {"L1": {"judge_pick": "benefit_focused"}, "L2": {"judge_pick": "emotional"}}
    regret = outreach_regret(truths, choices)
    assert regret.leads == 2 and regret.best_sent == 1 and regret.weeks == 2
    assert regret.total["bandit"] == pytest.approx(0.3)
    assert regret.total["judge"] == pytest.approx(0.15)
    assert regret.total["uniform"] == pytest.approx(2 * (0.5 - 1.05 / 3))
    assert regret.weekly[0]["bandit"] == pytest.approx(0.0)
    assert regret.line().startswith("bandit: regret=0.30 uniform_regret=0.30 judge_regret=0.15 "
                                    "weeks=2 ratio=1.000")
