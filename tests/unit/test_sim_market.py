"""The simulated market's arithmetic and its leads: stage probabilities, working hours, and
leads that depend only on (seed, number)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadflow.sim.leads import daily_counts, draw_lead, generate_leads
from leadflow.sim.market import (
    lead_terms,
    load_market,
    next_working_moment,
    rep_terms,
    sigmoid,
    stage_probabilities,
    style_effect,
)

MARKET = load_market()


def test_stage_probabilities_multiply_down_the_funnel() -> None:
    p = stage_probabilities(MARKET, 0.5)
    assert p["reply"] == pytest.approx(sigmoid(0.5 + MARKET.stages["reply"]))
    assert p["meeting"] == pytest.approx(p["reply"] * p["meeting_given_reply"])
    assert p["won"] == pytest.approx(p["meeting"] * p["won_given_meeting"])
    assert stage_probabilities(MARKET, 2.0)["won"] > p["won"] > stage_probabilities(
        MARKET, -1.0)["won"]


def test_the_first_emails_style_moves_only_the_reply_and_by_segment() -> None:
    plain = stage_probabilities(MARKET, 0.0)
    styled = stage_probabilities(MARKET, 0.0, style_effect(MARKET, "enterprise", "data_driven"))
    assert styled["reply"] > plain["reply"]
    assert styled["meeting_given_reply"] == plain["meeting_given_reply"]
    assert styled["won_given_meeting"] == plain["won_given_meeting"]
    best = {segment: max(effects, key=effects.__getitem__)
            for segment, effects in MARKET.outreach_styles.items()}
    assert len(set(best.values())) > 1  # no one style is best everywhere
    assert style_effect(MARKET, "smb", None) == 0.0


def test_a_slow_first_response_costs_conversion() -> None:
    fast, slow = rep_terms(MARKET, 0.0, 0.25), rep_terms(MARKET, 0.0, 30.0)
    assert slow["response_delay"] < fast["response_delay"] <= 0
    assert rep_terms(MARKET, 0.6, 1.0)["rep_skill"] == 0.6


def test_work_starts_at_the_next_opening_of_the_reps_region() -> None:
    friday_evening_ny = datetime(2026, 10, 9, 23, 30, tzinfo=UTC)  # 18:30 in UTC-5
    assert next_working_moment(MARKET, "NA", friday_evening_ny) == datetime(
        2026, 10, 12, 14, 0, tzinfo=UTC)  # Monday 09:00 UTC-5
    tuesday_noon_berlin = datetime(2026, 10, 13, 11, 0, tzinfo=UTC)
    assert next_working_moment(MARKET, "EMEA", tuesday_noon_berlin) == tuesday_noon_berlin


def test_a_lead_depends_only_on_the_seed_and_its_number() -> None:
    day = MARKET.start_at()
    assert draw_lead(MARKET, 7, 5, day) == draw_lead(MARKET, 7, 5, day)
    assert draw_lead(MARKET, 7, 5, day).item != draw_lead(MARKET, 8, 5, day).item
    short = generate_leads(MARKET, 7, 1, 10)
    longer = {lead.index: lead for lead in generate_leads(MARKET, 7, 3, 10)}
    assert all(longer[lead.index] == lead for lead in short)  # more days add leads only


def test_weekdays_get_more_leads_than_weekends_at_the_asked_average() -> None:
    counts = daily_counts(MARKET, 14, 40)  # starts on a Monday
    assert counts[0] > counts[5] and counts[5] == counts[6]
    assert abs(sum(counts) - 14 * 40) <= 14


def test_the_text_says_the_levels_it_chose_to_mention() -> None:
    leads = generate_leads(MARKET, 3, 2, 20)
    for lead in leads:
        said = lead.truth["said"]
        text = str(lead.item["payload"])
        for criterion, level in lead.truth["levels"].items():
            phrases = MARKET.bant[criterion].levels[level].phrases
            stems = [p.split("{")[0] for p in phrases]
            assert any(stem in text for stem in stems) == said[criterion], (criterion, text)
        terms = lead_terms(MARKET, lead.truth)
        assert set(terms) >= {"budget", "authority", "need", "timeline", "channel",
                              "campaign", "industry", "noise"}


def test_the_sim_clock_gives_a_lead_run_at_once_with_others_its_own_moment() -> None:
    import asyncio
    from datetime import timedelta

    from leadflow.sim.run import SimClock, _moment

    start = MARKET.start_at()
    clock = SimClock(start)

    async def at(moment: datetime) -> datetime:
        _moment.set(moment)
        await asyncio.sleep(0)
        return clock.now()

    async def both() -> list[datetime]:
        return list(await asyncio.gather(at(start + timedelta(hours=1)),
                                         at(start + timedelta(hours=2))))

    assert asyncio.run(both()) == [start + timedelta(hours=1), start + timedelta(hours=2)]
    assert clock.now() == start  # outside a lead's task: the simulator's moment
    clock.set(start + timedelta(days=1))
    assert clock.now() == start + timedelta(days=1)
