"""Conversion scoring's parts on small hand-built histories: the features known at routing
time, the label within a horizon, the time split, the metrics, training with its cold start,
the stored model's digest, and the store's promote/rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadflow.scoring import metrics
from leadflow.scoring.features import (
    Example,
    ScoringConfig,
    converted,
    labelled_examples,
    parse_horizon,
    routing_features,
    time_split,
)
from leadflow.scoring.model import BrokenModel, ColdStart, digest, headline, load, train
from leadflow.tools.crm import CrmStore
from leadflow.tools.crm.models import NoSuchModel, StoredLead
from tests.scoring_fakes import START, history, lead_record, qualification

CONFIG = ScoringConfig(horizon_days=30, min_leads=50, min_conversions=10,
                       routing_flags=("freemail", "unknown_company"))


# ------------------------------------------------------------------ features and labels


def test_features_are_what_is_known_at_routing_and_flags_written_later_are_not() -> None:
    arrived = datetime(2026, 10, 3, 14, 30, tzinfo=UTC)  # a Saturday afternoon
    record = lead_record(campaign="spring_webinar", seniority="c_level", employees=None,
                         arrived=arrived)
    features = routing_features(record, qualification(72), ["freemail", "closed_won",
                                                            "meeting_booked"],
                                arrived=arrived, routed_to="rep-7",
                                target_tech=["Snowflake"], routing_flags=CONFIG.routing_flags)
    assert features["source.campaign"] == "spring_webinar"
    assert features["contact.seniority"] == "c_level"
    assert features["tier"] == "warm" and features["bant.total"] == 72.0
    assert features["bant.timeline"] == 18.0 and not any(k.startswith("band.") for k in features)
    assert features["company.employees_unknown"] == 1.0 and "company.log_employees" not in features
    assert features["quality.technology_fit"] == 3.0  # one target technology in the stack
    assert features["arrival.weekend"] == 1.0
    assert features["flag.freemail"] == 1.0 and features["routed_to"] == "rep-7"
    # an engagement event's name becomes a flag after routing: it would leak the label
    assert not any(k in features for k in ("flag.closed_won", "flag.meeting_booked"))


def test_a_conversion_counts_only_within_the_horizon_after_arrival() -> None:
    horizon = timedelta(days=30)
    inside = [("contacted", START + timedelta(days=1)),
              ("meeting_booked", START + timedelta(days=29))]
    assert converted(START, inside, horizon, ("meeting_booked", "closed_won"))
    late = [("meeting_booked", START + timedelta(days=31))]
    assert not converted(START, late, horizon, ("meeting_booked",))
    before = [("closed_won", START - timedelta(hours=1))]  # another lead's thread, earlier
    assert not converted(START, before, horizon, ("closed_won",))
    assert not converted(START, [("replied", START + timedelta(days=2))], horizon,
                         ("meeting_booked",))


def test_only_leads_handed_to_reps_whose_horizon_has_passed_are_labelled() -> None:
    def stored(lead_id: str, days: float, tier: str) -> StoredLead:
        arrived = START + timedelta(days=days)
        return StoredLead(lead_id=lead_id, arrived_at=None,
                          record=lead_record(arrived=arrived),
                          outcome={"bant": qualification(60, tier), "flags": []})

    leads = [stored("old-warm", 0, "warm"), stored("old-cold", 1, "cold"),
             stored("recent-hot", 25, "hot"), stored("mid-hot", 2, "hot")]
    events = {"old-warm": [("meeting_booked", START + timedelta(days=3))]}
    as_of = START + timedelta(days=40)
    examples = labelled_examples(leads, events, as_of, CONFIG, assign_tiers=("hot", "warm"),
                                 target_tech=())
    assert [(e.lead_id, e.label) for e in examples] == [("old-warm", True), ("mid-hot", False)]
    assert examples[0].baseline == 60.0


def test_the_time_split_tests_on_the_newest_and_keeps_simultaneous_leads_together() -> None:
    moments = [START, START + timedelta(hours=1), START + timedelta(hours=2),
               START + timedelta(hours=2), START + timedelta(hours=3)]
    examples = [Example(f"L{i}", at, {}, 0.0, False) for i, at in enumerate(moments)]
    earlier, later = time_split(list(reversed(examples)), 0.4)  # the cut falls in a tie
    assert [e.lead_id for e in earlier] == ["L0", "L1", "L2", "L3"]
    assert [e.lead_id for e in later] == ["L4"]
    assert max(e.arrived_at for e in earlier) < min(e.arrived_at for e in later)


def test_horizons_are_read_in_days_weeks_or_hours() -> None:
    assert parse_horizon("30d") == 30.0 and parse_horizon("2w") == 14.0
    assert parse_horizon("36h") == 1.5 and parse_horizon("10") == 10.0
    with pytest.raises(ValueError):
        parse_horizon("soon")
    with pytest.raises(ValueError):
        parse_horizon("0d")


# ------------------------------------------------------------------ metrics


def test_auc_counts_pairs_and_ties_half() -> None:
    assert metrics.auc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]) == 1.0
    assert metrics.auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0
    assert metrics.auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]) == 0.5
    # positives at 0.8 and 0.4; negatives at 0.6 and 0.2: 3 of 4 pairs ordered right
    assert metrics.auc([0.8, 0.6, 0.4, 0.2], [1, 0, 1, 0]) == 0.75
    assert metrics.auc([0.3, 0.4], [1, 1]) != metrics.auc([0.3, 0.4], [1, 1])  # NaN


def test_ece_weighs_each_bins_gap_by_its_leads() -> None:
    # bin 1 (0.1–0.2): four leads at 0.15, one converted (0.25): gap 0.10
    # bin 8 (0.8–0.9): six leads at 0.85, three converted (0.5): gap 0.35
    probabilities = [0.15] * 4 + [0.85] * 6
    labels = [1, 0, 0, 0] + [1, 1, 1, 0, 0, 0]
    assert metrics.ece(probabilities, labels) == pytest.approx((4 * 0.10 + 6 * 0.35) / 10)
    assert metrics.ece([1.0, 1.0], [1, 1]) == 0.0  # 1.0 falls in the last bin
    assert metrics.ece([0.3] * 10, [1, 1, 1] + [0] * 7) == pytest.approx(0.0)


def test_the_ece_noise_floor_shrinks_with_more_leads() -> None:
    few, many = metrics.ece_noise_floor([0.3] * 100), metrics.ece_noise_floor([0.3] * 10_000)
    assert 0.02 < few < 0.08 and many < 0.01  # ≈ E|binomial mean − p| = √(p(1−p)/n)·√(2/π)


def test_lift_of_the_top_decile_is_its_rate_over_the_overall_rate() -> None:
    scores = [i / 20 for i in range(20)]  # the top tenth: the two highest
    labels = [0] * 16 + [0, 1, 1, 1]
    assert metrics.lift_top_decile(scores, labels) == pytest.approx(1.0 / (3 / 20))
    assert metrics.lift_top_decile([0.1, 0.2], [0, 0]) != metrics.lift_top_decile(
        [0.1, 0.2], [0, 0])  # NaN without positives


# ------------------------------------------------------------------ training


def test_a_model_learns_what_the_rules_total_does_not_weigh() -> None:
    trained = train(history(400, seed=3), CONFIG)
    m = trained.metrics
    assert m["auc"] > m["baseline_auc"] + 0.1, m
    assert m["chosen"] in ("logistic", "gradient_boosting")
    assert set(m["candidates"]) == {"logistic", "gradient_boosting"}
    assert all("validation" in c and "test" in c for c in m["candidates"].values())
    assert trained.n_train + trained.n_test == 400 and trained.n_test == 100
    assert m["train_period"][1] < m["test_period"][0]  # trained on the earlier leads
    line = headline(m)
    assert line.startswith("model: auc=") and "\n" not in line
    assert all(f" {k}=" in line for k in ("baseline_auc", "lift_top_decile", "ece", "n_train",
                                          "n_test"))


def test_priorities_follow_the_training_quartiles_and_factors_say_which_way() -> None:
    trained = train(history(400, seed=5), CONFIG)
    model = trained.model
    low, mid, high = model.cuts
    assert low <= mid <= high
    assert model.priority(high + 0.01) == "A" and model.priority(low - 0.01) == "D"
    assert model.priority((mid + high) / 2) == "B" and model.priority((low + mid) / 2) == "C"
    good = history(1, seed=0)[0].features | {"source.campaign": "spring_webinar"}
    bad = good | {"source.campaign": "cold_list"}
    good_score = model.score(good, 3)
    bad_score = model.score(bad, 3)
    assert good_score["probability"] > bad_score["probability"]
    assert 0.0 < bad_score["probability"] < good_score["probability"] < 1.0
    campaign = [f for f in bad_score["factors"] if f["feature"] == "source.campaign"]
    assert campaign and campaign[0]["direction"] == "lowers" and campaign[0]["effect"] < 0
    assert len(good_score["factors"]) <= 3


def test_too_little_history_is_refused_and_the_rules_stay_in_charge() -> None:
    with pytest.raises(ColdStart, match="cold start: 40 settled leads"):
        train(history(40), CONFIG)
    few = ScoringConfig(min_leads=50, min_conversions=10_000)
    with pytest.raises(ColdStart, match="the rules stay in charge"):
        train(history(400), few)


def test_a_stored_model_loads_only_when_its_digest_matches() -> None:
    artefact = train(history(300, seed=2), CONFIG).model.dumps()
    loaded = load(artefact, digest(artefact))
    assert loaded.kind in ("logistic", "gradient_boosting")
    with pytest.raises(BrokenModel, match="sha256"):
        load(artefact[:-1] + b"x", digest(artefact))
    with pytest.raises(BrokenModel, match="does not load"):
        load(b"not a model", digest(b"not a model"))


# ------------------------------------------------------------------ the store


def _save(store: CrmStore, now: datetime) -> int:
    return store.save_model(kind="logistic", now=now, trained_through=now, horizon_days=30,
                            n_train=10, n_test=5, metrics={"auc": 0.7}, features=["tier"],
                            artefact=b"bytes", sha256=digest(b"bytes"))


def test_models_are_versioned_promoted_and_rolled_back(tmp_path: Path) -> None:
    store = CrmStore(f"sqlite:///{tmp_path / 'crm.db'}")
    now = START
    try:
        assert store.scoring_models() == []
        with pytest.raises(NoSuchModel):
            store.promote_model(None, now)
        assert [_save(store, now), _save(store, now)] == [1, 2]
        # both in shadow: the newest scores in shadow, none is acted on
        assert [(m["version"], m["status"]) for m in store.scoring_models()] == [(2, "shadow")]
        assert store.promote_model(1, now) == (1, None)
        assert [(m["version"], m["status"]) for m in store.scoring_models()] == [
            (1, "promoted"), (2, "shadow")]
        assert store.promote_model(None, now + timedelta(hours=1)) == (2, 1)
        assert {m["version"]: m["status"] for m in store.models()} == {2: "promoted",
                                                                       1: "retired"}
        assert store.rollback_model(now + timedelta(hours=2)) == (2, 1)
        assert {m["version"]: m["status"] for m in store.models()} == {2: "retired",
                                                                       1: "promoted"}
        assert store.rollback_model(now + timedelta(hours=3)) == (1, None)  # none before it
        assert store.scoring_models() == []
        with pytest.raises(NoSuchModel):
            store.rollback_model(now)
        assert store.model_artefact(1) == (b"bytes", digest(b"bytes"))
        with pytest.raises(NoSuchModel):
            store.model_artefact(9)
    finally:
        store.close()


def test_a_lead_keeps_its_first_score_per_model(tmp_path: Path) -> None:
    store = CrmStore(f"sqlite:///{tmp_path / 'crm.db'}")
    try:
        score = {"probability": 0.4, "priority": "B", "factors": []}
        assert store.record_score("LEAD-1", 1, "shadow", score, START)
        assert not store.record_score("LEAD-1", 1, "shadow", {**score, "probability": 0.9},
                                      START + timedelta(hours=1))
        stored = store.scores_for("LEAD-1")
        assert [(s["model_version"], s["probability"], s["mode"]) for s in stored] == [
            (1, 0.4, "shadow")]
    finally:
        store.close()
