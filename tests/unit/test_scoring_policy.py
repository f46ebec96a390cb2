"""What the promoted score may do (icp.yaml `scoring.mode`), the rep queue's order, drift,
and the calibration diagnostics `train` keeps (docs/models.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from leadflow.preflight import PreflightError, check_scoring_policy
from leadflow.scoring import metrics, policy
from leadflow.scoring.drift import DriftBounds, load_bounds, measure, psi
from leadflow.scoring.features import ScoringConfig, load_scoring
from leadflow.scoring.model import digest, load, train
from leadflow.scoring.policy import blended_tier, load_policy, person_decided, priority_note
from leadflow.scoring.queue import by_priority
from tests.scoring_fakes import history

TIERS = ["hot", "warm"]
RATES = {"hot": 0.5, "warm": 0.3}


def test_the_bundled_mode_is_advise() -> None:
    assert load_policy().mode == "advise"


@pytest.mark.parametrize(("text", "message"), [
    ("scoring: {mode: agressive}\n",
     "icp.yaml scoring.mode: 'agressive' is not one of advise, blend"),
    ("scoring: {mode: blend, step: 2}\n", "icp.yaml scoring.step: "),
    ("scoring: blend\n", "icp.yaml scoring: must be a mapping"),
])
def test_a_wrong_scoring_section_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "icp.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_preflight_refuses_a_wrong_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong() -> None:
        raise ValueError("icp.yaml scoring.mode: 'x' is not one of advise, blend")

    monkeypatch.setattr(policy, "scoring_policy", wrong)
    with pytest.raises(PreflightError, match="scoring.mode: 'x'"):
        check_scoring_policy()


@pytest.mark.parametrize(("tier", "p", "priority", "after"), [
    ("warm", 0.55, "A", "hot"),    # top quarter, at least the hot leads' 50 %
    ("warm", 0.45, "A", None),     # top quarter, but below what hot leads converted
    ("warm", 0.55, "B", None),     # not the top quarter
    ("hot", 0.25, "D", "warm"),    # bottom quarter, no more than the warm leads' 30 %
    ("hot", 0.35, "D", None),      # bottom quarter, but above the warm leads
    ("hot", 0.90, "A", None),      # already the best rep tier
    ("warm", 0.05, "D", None),     # never out of the rep tiers (to nurture)
    ("cold", 0.90, "A", None),     # never into them
    (None, 0.90, "A", None),
])
def test_blend_moves_at_most_one_tier_when_far_off(tier: str | None, p: float, priority: str,
                                                   after: str | None) -> None:
    move = blended_tier(tier, p, priority, TIERS, RATES)
    assert (move.after if move else None) == after
    if move:
        assert move.before == tier and move.reason.startswith("conversion model: ")
        assert move.as_dict()["direction"] == ("up" if after == "hot" else "down")


def test_no_training_rate_no_move() -> None:
    assert blended_tier("warm", 0.99, "A", TIERS, {}) is None


def test_a_person_decided() -> None:
    assert person_decided(["freemail", "human_set_tier"])
    assert person_decided([], [{"decided_by": "rules"}, {"decided_by": "human"}])
    assert not person_decided(["freemail"], [{"decided_by": "llm"}])


def test_priority_note() -> None:
    assert priority_note({"priority": "A", "probability": 0.624}) == " — priority A (62%)"
    assert priority_note(None) == "" and priority_note({}) == ""


def _lead(lead_id: str, status: str, at: str, priority: str | None = None,
          p: float | None = None, flags: tuple[str, ...] = ()) -> dict[str, object]:
    conversion = {"priority": priority, "probability": p} if priority else None
    return {"id": lead_id, "status": status, "ingested_at": at,
            "outcome": {"flags": list(flags), **({"conversion": conversion}
                                                  if conversion else {})}}


def test_the_rep_queue_puts_priority_first_then_age() -> None:
    leads = [
        _lead("old-unscored", "awaiting_followup", "2026-11-01T09:00:00+00:00"),
        _lead("c", "awaiting_followup", "2026-11-01T09:00:00+00:00", "C", 0.2),
        _lead("a-low", "escalated", "2026-11-03T09:00:00+00:00", "A", 0.6),
        _lead("a-high", "awaiting_followup", "2026-11-04T09:00:00+00:00", "A", 0.7),
        _lead("a-low-older", "awaiting_followup", "2026-11-02T09:00:00+00:00", "A", 0.6),
        _lead("won", "routed", "2026-11-01T09:00:00+00:00", "A", 0.9, ("closed_won",)),
        _lead("nurture", "nurture", "2026-11-01T09:00:00+00:00"),
    ]
    assert [lead["id"] for lead in by_priority(leads)] == [
        "a-high", "a-low-older", "a-low", "c", "old-unscored"]


def test_psi_is_zero_for_the_training_shape_and_large_for_a_shift() -> None:
    deciles = [0.1 * k for k in range(1, 10)]
    even = [0.05 + 0.1 * (i % 10) for i in range(1000)]
    assert psi(even, deciles) == pytest.approx(0.0, abs=1e-9)
    assert psi([0.02] * 100, deciles) > 2.0
    assert 0.0 < psi([*even[:900], *[0.95] * 100], deciles) < 0.2


NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_drift_measures_calibration_on_settled_leads_only() -> None:
    bounds = DriftBounds(window_days=14, min_leads=10, psi_max=0.2, calibration_gap_max=0.1)
    old = NOW - timedelta(days=40)
    scores = [(f"L{i}", 0.6, old) for i in range(20)]  # predicted 60 %
    events = {f"L{i}": [("meeting_booked", old + timedelta(days=3))] for i in range(4)}
    report = measure(1, {"horizon_days": 30, "score_deciles": None}, scores, events, NOW,
                     bounds)
    assert (report.settled, report.predicted, report.observed) == (20, 0.6, 0.2)
    assert report.drifted and "calibration off" in report.reasons[0]
    assert report.recent == 0 and report.psi is None  # nothing scored in the last 14 days
    young = [(f"Y{i}", 0.6, NOW - timedelta(days=2)) for i in range(20)]  # not settled yet
    fresh = measure(1, {"horizon_days": 30}, young, {}, NOW, bounds)
    assert fresh.settled == 0 and not fresh.drifted


def test_too_few_leads_is_no_verdict() -> None:
    bounds = DriftBounds(min_leads=50)
    scores = [(f"L{i}", 0.01, NOW - timedelta(days=1)) for i in range(49)]
    report = measure(1, {"score_deciles": [0.5] * 9}, scores, {}, NOW, bounds)
    assert report.psi is not None and report.psi > 1 and not report.drifted


def test_the_bundled_drift_bounds_and_a_wrong_one(tmp_path: Path) -> None:
    assert load_bounds().psi_max == 0.2
    path = tmp_path / "scoring.yaml"
    path.write_text("drift: {psi_max: -1}\n")
    with pytest.raises(ValueError, match=r"^scoring.yaml drift.psi_max: "):
        load_bounds(path)


def test_calibrations_are_validated(tmp_path: Path) -> None:
    assert load_scoring().calibrations == ("sigmoid",)
    path = tmp_path / "scoring.yaml"
    path.write_text("calibrations: [sigmoid, platt]\n")
    with pytest.raises(ValueError, match="calibrations"):
        load_scoring(path)


def test_reliability_and_chance_describe_the_ece() -> None:
    p = np.array([0.25, 0.25, 0.35, 0.35, 0.35, 0.45])
    y = np.array([False, True, False, False, True, True])
    rows = metrics.reliability(p, y)
    assert [(r["from"], r["n"]) for r in rows] == [(0.2, 2), (0.3, 3), (0.4, 1)]
    weighted = sum(r["n"] * abs(r["predicted"] - r["observed"]) for r in rows) / len(p)
    assert weighted == pytest.approx(metrics.ece(p, y), abs=1e-3)
    assert metrics.chance_within(np.full(2000, 0.3), 0.05) == 1.0  # many leads: always
    assert metrics.chance_within(np.full(20, 0.3), 0.05) < 0.5  # few: rarely


def test_training_keeps_tier_rates_deciles_and_the_reliability() -> None:
    config = ScoringConfig(min_leads=50, min_conversions=10, routing_flags=("freemail",))
    trained = train(history(300, seed=4), config)
    m = trained.metrics
    assert set(m["tier_rates"]) == {"hot", "warm"} and len(m["score_deciles"]) == 9
    assert m["score_deciles"] == sorted(m["score_deciles"])
    assert sum(r["n"] for r in m["reliability"]) == m["n_test"]
    assert m["calibration"] == "sigmoid" and set(m["candidates"]) == {"logistic",
                                                                      "gradient_boosting"}
    data = trained.model.dumps()
    assert load(data, digest(data)).tier_rates == trained.model.tier_rates


def test_isotonic_is_a_candidate_when_configured() -> None:
    config = ScoringConfig(min_leads=50, min_conversions=10, routing_flags=("freemail",),
                           calibrations=("sigmoid", "isotonic"))
    m = train(history(300, seed=4), config).metrics
    assert set(m["candidates"]) == {"logistic+sigmoid", "logistic+isotonic",
                                    "gradient_boosting+sigmoid", "gradient_boosting+isotonic"}
    best = min(m["candidates"], key=lambda k: m["candidates"][k]["validation"]["log_loss"])
    assert m["chosen"] == best and m["calibration"] == best.split("+")[1]
