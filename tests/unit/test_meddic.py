"""MEDDIC (SPEC §4.3): the scoring policy (bands clamp, total scaled to 0–100, the BANT
tiers), its rules in icp.yaml, the rules proposer's general signals, and the injection guard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.agents.evidence import strip_injection
from leadflow.agents.meddic import (
    MEDDIC_CRITERIA,
    MeddicProposal,
    meddic_conflict_changes_tier,
    score_meddic,
)
from leadflow.agents.meddic_rules import propose_meddic
from leadflow.agents.qualification import CriterionProposal, QualificationAgent
from leadflow.config import CONFIG_DIR, icp
from leadflow.config.meddic import load_meddic, meddic_rules
from leadflow.context import LeadflowContext
from leadflow.toolbox import Toolbox
from tests.unit.test_qualification import INJECTIONS, make_lead, weak_lead

ICP = icp()
MEDDIC = meddic_rules()
MEDDIC_RUN = LeadflowContext(model="rules", framework="meddic")
BAND_CHOICES = [(n, b.name) for n in MEDDIC_CRITERIA for b in MEDDIC[n].bands]


def proposal(**parts: CriterionProposal) -> MeddicProposal:
    """The weakest proposal (weakest band, strength 0) with some criteria replaced."""
    weakest = {n: CriterionProposal(band=MEDDIC[n].bands[-1].name, strength=0.0, evidence="-")
               for n in MEDDIC_CRITERIA}
    return MeddicProposal.model_validate({**weakest, **parts})


def rules_score(lead: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    clean, _ = strip_injection(lead.get("inquiry") or "" if text is None else text, ICP)
    return score_meddic(propose_meddic(lead, clean, MEDDIC, ICP), MEDDIC, ICP)


# ---------------------------------------------------------------------------- policy


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(choice=st.sampled_from(BAND_CHOICES),
       strength=st.one_of(st.floats(min_value=0.0, max_value=1.0),
                          st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from([-1.0, 1.0001, 100.0, -1e9, 1e9])))
def test_every_score_is_clamped_into_its_band(choice: tuple[str, str], strength: float) -> None:
    name, band_name = choice
    band = MEDDIC[name].band(band_name)
    # model_construct skips the 0..1 validation, as a misbehaving LLM proposer could
    result = score_meddic(proposal(**{name: CriterionProposal.model_construct(
        band=band_name, strength=strength, evidence="q")}), MEDDIC, ICP)
    assert isinstance(result[name]["score"], int)
    assert band.low <= result[name]["score"] <= band.high
    assert result[name]["band"] == band_name
    points = sum(result[n]["score"] for n in MEDDIC_CRITERIA)
    assert result["total"] == MEDDIC.scaled(points)
    assert 0 <= result["total"] <= 100
    assert result["tier"] == ICP.tier_for(result["total"])
    assert result["framework"] == "MEDDIC"


@pytest.mark.parametrize("name", MEDDIC_CRITERIA)
def test_strength_spans_each_band_and_an_unknown_band_is_the_weakest(name: str) -> None:
    for band in MEDDIC[name].bands:
        ends = [score_meddic(proposal(**{name: CriterionProposal(
            band=band.name, strength=s, evidence="")}), MEDDIC, ICP)[name]["score"]
            for s in (0.0, 1.0)]
        assert ends == [band.low, band.high]
    unknown = score_meddic(proposal(**{name: CriterionProposal(
        band="clear_budget", strength=1.0, evidence="")}), MEDDIC, ICP)[name]
    assert unknown["band"] == MEDDIC[name].bands[-1].name
    assert unknown["score"] == MEDDIC[name].bands[-1].high


def test_the_total_is_scaled_from_120_points_to_100() -> None:
    assert MEDDIC.max_points == 120  # six criteria, 20 points each in icp.yaml
    strongest = proposal(**{n: CriterionProposal(band=MEDDIC[n].bands[0].name, strength=1.0,
                                                 evidence="") for n in MEDDIC_CRITERIA})
    assert score_meddic(strongest, MEDDIC, ICP)["total"] == 100
    assert score_meddic(proposal(), MEDDIC, ICP)["total"] == 0
    # half up: 57 of 120 points is 47.5 → 48; 71 → 59.17 → 59; 72 → 60
    assert [MEDDIC.scaled(p) for p in (57, 71, 72, 95, 96, 119)] == [48, 59, 60, 79, 80, 99]


def scores_proposal(points: list[int]) -> MeddicProposal:
    parts = {}
    for name, score in zip(MEDDIC_CRITERIA, points, strict=True):
        band = next(b for b in MEDDIC[name].bands if b.low <= score <= b.high)
        parts[name] = CriterionProposal(band=band.name, evidence="",
                                        strength=(score - band.low) / (band.high - band.low))
    return proposal(**parts)


@pytest.mark.parametrize(("points", "total", "tier"), [
    ([0, 0, 0, 0, 0, 0], 0, "unqualified"),
    ([8, 8, 8, 8, 8, 7], 39, "unqualified"),   # 47 points
    ([8, 8, 8, 8, 8, 8], 40, "cold"),          # 48
    ([12, 12, 12, 12, 11, 11], 58, "cold"),    # 70
    ([12, 12, 12, 12, 12, 12], 60, "warm"),    # 72
    ([16, 16, 16, 16, 16, 15], 79, "warm"),    # 95
    ([16, 16, 16, 16, 16, 16], 80, "hot"),     # 96
    ([20, 20, 20, 20, 20, 20], 100, "hot"),
])
def test_the_same_tiers_as_bant_on_the_scaled_total(points: list[int], total: int,
                                                     tier: str) -> None:
    result = score_meddic(scores_proposal(points), MEDDIC, ICP)
    assert [result[n]["score"] for n in MEDDIC_CRITERIA] == points
    assert (result["total"], result["tier"]) == (total, tier)


def test_a_conflict_asks_a_person_only_when_it_could_change_the_tier() -> None:
    result = score_meddic(scores_proposal([16, 12, 16, 16, 16, 16]), MEDDIC, ICP)
    result["conflicts"] = ["economic_buyer: senior title but 'student' in the text"]
    assert result["tier"] == "warm"  # 92 points → 77; strongest reading 98 → 82 hot
    assert meddic_conflict_changes_tier(result, MEDDIC, ICP)
    low = score_meddic(scores_proposal([0, 12, 0, 0, 0, 0]), MEDDIC, ICP)
    low["conflicts"] = ["economic_buyer: senior title but 'student' in the text"]
    assert not meddic_conflict_changes_tier(low, MEDDIC, ICP)  # unqualified either way


# ---------------------------------------------------------------------------- config


def write_icp(tmp_path: Path, edit: Any) -> Path:
    raw = yaml.safe_load((CONFIG_DIR / "icp.yaml").read_text(encoding="utf-8"))
    edit(raw["meddic"])
    path = tmp_path / "icp.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_bands_come_from_icp_yaml(tmp_path: Path) -> None:
    def wider_metrics(meddic: dict[str, Any]) -> None:
        meddic["metrics"]["bands"] = {"quantified": [30, 40], "stated_goal": [20, 29],
                                      "implied": [10, 19], "none": [0, 9]}

    rules = load_meddic(write_icp(tmp_path, wider_metrics))
    assert rules.max_points == 140
    top = proposal(metrics=CriterionProposal(band="quantified", strength=1.0, evidence=""))
    assert score_meddic(top, rules, ICP)["metrics"]["score"] == 40
    assert score_meddic(top, rules, ICP)["total"] == 29  # 40 of 140


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m.pop("champion"), "missing champion"),
    (lambda m: m.update(budget=m["metrics"]), "unknown budget"),
    (lambda m: m["metrics"]["bands"].pop("implied"), "meddic.metrics.bands: expected"),
    (lambda m: m["champion"]["bands"].update(strong=[20, 10]), "meddic.champion.bands.strong"),
])
def test_a_broken_meddic_section_is_one_clear_error(tmp_path: Path, edit: Any,
                                                    message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_meddic(write_icp(tmp_path, edit))


# ---------------------------------------------------------------------------- rules


def test_a_number_with_a_unit_of_value_is_a_metric_a_budget_amount_is_not() -> None:
    budget = rules_score(make_lead("Budget approved: $250k for a new scheduling tool."))
    assert budget["metrics"]["band"] != "quantified"
    for text in ("Our month-end close costs us 300 hours of overtime a month.",
                 "We want to cut onboarding time by 40%.",
                 "Manual rework is losing us $50k a month."):
        result = rules_score(make_lead(text))
        assert result["metrics"]["band"] == "quantified", text
        assert result["metrics"]["evidence"] == text
    goal = rules_score(make_lead("We want to reduce the time our agents spend on reports."))
    assert goal["metrics"]["band"] == "stated_goal"


def test_the_economic_buyer_follows_seniority_department_and_stated_approval() -> None:
    def buyer(title: str, text: str = "Tell me more.") -> dict[str, Any]:
        return rules_score(make_lead(text, title=title))["economic_buyer"]

    assert buyer("Chief Financial Officer")["band"] == "is_contact"
    assert buyer("Director of Engineering")["band"] == "reachable"
    assert buyer("Director of Finance")["band"] == "engaged"  # a finance head
    assert buyer("Data Analyst")["band"] == "unknown"
    named = buyer("Data Analyst", "Our CFO asked me to look for a reporting tool.")
    assert named["band"] == "engaged" and "CFO" in named["evidence"]
    approved = buyer("Data Analyst", "We have EUR 90k approved for this project.")
    assert approved["band"] == "engaged"


def test_a_senior_title_with_a_non_buyer_sentence_is_a_conflict_at_the_lower_band() -> None:
    result = rules_score(make_lead("I'm a student writing my thesis on CRMs.", title="CEO"))
    assert result["economic_buyer"]["band"] == "unknown"
    assert result["champion"]["band"] == "none"
    assert result["conflicts"] and result["conflicts"][0].startswith("economic_buyer:")
    assert result["tier"] == "unqualified"


def test_decision_criteria_from_stated_requirements_else_the_tech_stack() -> None:
    explicit = rules_score(make_lead("It must integrate with Salesforce and support SSO."))
    assert explicit["decision_criteria"]["band"] == "explicit"
    some = rules_score(make_lead("We are comparing a few vendors."))
    assert some["decision_criteria"]["band"] == "some"
    stack = make_lead("Tell me more.", tech_stack=["Snowflake", "dbt"])
    implied = rules_score(stack)["decision_criteria"]
    assert implied == {"score": implied["score"], "band": "implied",
                       "evidence": "tech_stack: Snowflake; dbt"}
    assert rules_score(make_lead("Tell me more."))["decision_criteria"]["band"] == "unknown"


def test_decision_process_from_steps_and_decision_dates() -> None:
    defined = rules_score(make_lead("After a security review and a pilot we will decide by "
                                    "15 January."))["decision_process"]
    assert defined["band"] == "defined"
    dated = rules_score(make_lead("We want to sign the contract this month."))
    assert dated["decision_process"]["band"] in ("partial", "defined")
    assert rules_score(make_lead("We hope to sign by 15 January."))["decision_process"][
        "band"] == "partial"
    far = rules_score(make_lead("Maybe something for 2028."))["decision_process"]
    assert far["band"] == "vague"
    assert rules_score(make_lead("Tell me more."))["decision_process"]["band"] == "unknown"


def test_pain_uses_the_shared_need_words_and_a_champion_needs_three_signals() -> None:
    urgent = rules_score(make_lead("Our dispatch system keeps failing, this is urgent."))
    assert urgent["identify_pain"]["band"] == "critical"
    curious = rules_score(make_lead("Just curious about your product."))
    assert curious["identify_pain"]["band"] == "mild"
    strong = rules_score(make_lead("I'm leading the selection. Can we book a demo next week?",
                                   title="Director of Operations"))["champion"]
    assert strong["band"] == "strong"
    assert "I'm leading the selection." in strong["evidence"]
    weak = rules_score(make_lead("Just curious about your product.", title="Data Analyst"))
    assert weak["champion"]["band"] == "weak"


# ---------------------------------------------------------------------------- the agent


def test_the_agent_scores_meddic_when_the_run_chooses_it(tools: Toolbox) -> None:
    lead = make_lead("Our month-end close costs us 300 hours of overtime a month. It must "
                     "integrate with NetSuite and support SSO. After a security review and a "
                     "pilot we will decide by 15 January. I'm leading the evaluation; can we "
                     "book a demo?", title="Chief Financial Officer", employees=900)
    out = asyncio.run(QualificationAgent().run({"lead": lead, "lead_text": ""}, tools,
                                               MEDDIC_RUN))
    result = out.update["bant"]
    assert result["framework"] == "MEDDIC"
    assert set(MEDDIC_CRITERIA) <= set(result) and "budget" not in result
    assert result["tier"] == "hot" and out.decision == "hot"
    assert out.notes.startswith(f"MEDDIC {result['total']}/100 → hot (rules)")
    bant = asyncio.run(QualificationAgent().run({"lead": lead, "lead_text": ""}, tools))
    assert bant.update["bant"]["framework"] == "BANT" and "metrics" not in bant.update["bant"]


@pytest.mark.parametrize("injection", INJECTIONS)
def test_an_injection_never_raises_the_meddic_score(tools: Toolbox, injection: str) -> None:
    lead = weak_lead()
    clean = asyncio.run(QualificationAgent().run({"lead": lead, "lead_text": ""}, tools,
                                                 MEDDIC_RUN))
    lead = {**lead, "inquiry": f"{lead['inquiry']} {injection}"}
    out = asyncio.run(QualificationAgent().run({"lead": lead, "lead_text": ""}, tools,
                                               MEDDIC_RUN))
    assert "prompt_injection_suspected" in out.flags
    assert out.update["bant"]["total"] <= clean.update["bant"]["total"]


def test_the_injection_bait_would_raise_meddic_if_it_were_not_stripped() -> None:
    """Guards the test above: its bait does lift a weak lead when nothing strips it."""
    lead = weak_lead()
    baseline = rules_score(lead)["total"]
    bait = ("Our CFO approved $90k. It must integrate with Salesforce and support SSO. "
            "Urgent: a pilot, then we sign this month. I'm leading it, book a demo.")
    raw = score_meddic(propose_meddic(lead, f"{lead['inquiry']} {bait}", MEDDIC, ICP),
                       MEDDIC, ICP)
    assert raw["total"] >= baseline + 30
