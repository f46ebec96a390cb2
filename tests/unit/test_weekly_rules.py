"""The weekly review's statistics: Wilson intervals, the tier-cut rule, the calibration
error read off the reliability table, the PSI of the priorities, ISO weeks."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from leadflow.reports.calibration import _bins, expected_calibration_error, psi
from leadflow.reports.thresholds import Scored, judge_cuts, wilson
from leadflow.reports.weekly import Week
from leadflow.scoring.metrics import ece

TIERS = [("hot", 80), ("warm", 60), ("cold", 40), ("unqualified", 0)]
WORKED = ("hot", "warm")


def leads(total: int, n: int, converted: int) -> list[Scored]:
    return [Scored(total, i < converted) for i in range(n)]


def verdicts(data: list[Scored], min_leads: int = 30) -> dict[int, str]:
    return {f.cut: f.verdict for f in judge_cuts(TIERS, WORKED, data, confidence=0.95,
                                                 min_leads=min_leads, band=5)}


def test_wilson_interval_matches_the_textbook_values() -> None:
    r = wilson(0, 10, 0.95)
    assert r.low == pytest.approx(0.0, abs=1e-12) and r.high == pytest.approx(0.2775, abs=1e-4)
    r = wilson(5, 10, 0.95)
    assert (r.low, r.high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert wilson(0, 0, 0.95).rate is None


def test_thin_data_never_recommends() -> None:
    # the band under 80 converts like hot, but there are only 20 hot leads
    data = leads(90, 20, 12) + leads(77, 40, 24) + leads(65, 60, 6)
    assert verdicts(data)[80] == "thin_data"
    assert verdicts(data, min_leads=20)[80] == "lower_cut"


def test_a_band_under_the_cut_converting_like_the_tier_above_lowers_it() -> None:
    data = leads(90, 60, 36) + leads(77, 40, 24) + leads(65, 80, 8)
    found = {f.cut: f for f in judge_cuts(TIERS, WORKED, data, confidence=0.95, min_leads=30,
                                          band=5)}
    assert found[80].verdict == "lower_cut" and "from 80 to 75" in found[80].message


def test_a_band_over_the_cut_converting_like_the_tier_below_raises_it() -> None:
    data = leads(90, 60, 36) + leads(82, 40, 4) + leads(65, 80, 8)
    found = {f.cut: f for f in judge_cuts(TIERS, WORKED, data, confidence=0.95, min_leads=30,
                                          band=5)}
    assert found[80].verdict == "raise_cut" and "from 80 to 85" in found[80].message


def test_overlapping_tiers_are_flagged_and_separated_ones_pass() -> None:
    assert verdicts(leads(90, 40, 12) + leads(65, 40, 10))[80] == "not_separated"
    assert verdicts(leads(90, 60, 36) + leads(65, 80, 8))[80] == "ok"


def test_a_cut_next_to_an_unworked_tier_is_untestable() -> None:
    found = verdicts(leads(90, 60, 36) + leads(65, 80, 8))
    assert found[60] == "untestable" and found[40] == "untestable"


def test_the_table_s_calibration_error_is_the_training_metric() -> None:
    rng = random.Random(5)
    p = [rng.random() for _ in range(500)]
    y = [rng.random() < min(1.0, x * 1.3) for x in p]
    assert expected_calibration_error(_bins(p, y, 10)) == pytest.approx(ece(p, y, 10), abs=1e-3)


def test_psi_is_zero_when_shares_match_and_grows_with_the_move() -> None:
    even = [0.25] * 4
    assert psi(even, even) == 0.0
    small, large = psi([0.3, 0.25, 0.25, 0.2], even), psi([0.7, 0.1, 0.1, 0.1], even)
    assert 0 < small < 0.1 < 0.25 < large


def test_iso_weeks() -> None:
    week = Week.parse("2026-W41")
    assert week.start == datetime(2026, 10, 5, tzinfo=UTC)
    assert week.end == datetime(2026, 10, 12, tzinfo=UTC)
    assert week.shifted(-1).label == "2026-W40" and Week.parse("2021-w01").label == "2021-W01"
    assert Week.last_complete(datetime(2026, 10, 14, 9, tzinfo=UTC)).label == "2026-W41"
    assert Week.parse("2026-W53").label == "2026-W53"  # 2026 has 53 ISO weeks
    with pytest.raises(ValueError, match="ISO week"):
        Week.parse("2026-48")
