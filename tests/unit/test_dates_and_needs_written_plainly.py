"""Dates and needs as people write them in notes and chats: a month after a word that starts
something ("Start Januar", "od stycznia"), an article between ("before the June audit"),
calendar weeks ("bis KW 3"), a coming quarter in more languages, and a need that is losing
track of business, a tool that keeps breaking or has hit its limit, an agreement that runs
out. The sentences are written for these tests."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.dates_in_text import contract_ending, dated_mentions
from leadflow.agents.purchase_date import buying_date
from leadflow.config import icp
from leadflow.tools.ingest.form import field_for_key
from tests.unit.test_qualification import make_lead, scored

RULES = icp()
TIMELINE, NEED = RULES.bant["timeline"], RULES.bant["need"]
NOV_24 = date(2026, 11, 24)  # make_lead's arrival day


def months(text: str) -> list[float]:
    return sorted(round(delta, 1) for delta, _ in dated_mentions(text, NOV_24, TIMELINE))


@pytest.mark.parametrize(("text", "expected"), [
    ("Start Februar, Angebot vorher.", [2.7]),
    ("Rollout start March with two sites.", [3.7]),
    ("Chcemy ruszyć od lutego.", [2.7]),
    ("We must be ready before the June audit.", [6.2]),
])
def test_a_month_placed_by_a_start_word_or_an_article(text: str, expected: list[float]) -> None:
    assert months(text) == expected


def test_a_bare_may_is_not_a_month() -> None:
    assert months("We may start with one team.") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Angebot bitte bis KW 50, Entscheidung KW 2/2027.", [0.4, 1.6]),
    ("Vi vill ha leverans vecka 8.", [3.0]),
])
def test_calendar_weeks_by_number(text: str, expected: list[float]) -> None:
    assert months(text) == expected


def test_english_week_numbers_are_not_dates() -> None:
    assert months("In week 2 of the trial every week 3 people left.") == []


@pytest.mark.parametrize("text", [
    "希望下季度上线。",
    "Vorremmo partire il prossimo trimestre.",
    "Kami ingin mulai kuartal depan.",
])
def test_the_coming_quarter_in_more_languages(text: str) -> None:
    assert scored(make_lead(text), text)["timeline"]["band"] == "within_3_months"


@pytest.mark.parametrize("text", [
    "Every month we lose track of about a fifth of the trade enquiries.",
    "Our booking plugin keeps breaking whenever the shop gets busy.",
    "The spreadsheet we use has reached its limit with four depots.",
])
def test_losing_business_or_a_failing_tool_is_critical(text: str) -> None:
    assert scored(make_lead(text), text)["need"]["band"] == "critical"


def test_an_agreement_that_runs_out_soon_is_a_deadline() -> None:
    text = "Our service agreement with the current vendor expires on 28 February."
    assert contract_ending(text, NOV_24, NEED, TIMELINE) is not None


def test_a_date_answering_a_demo_question_is_a_step_before_the_purchase() -> None:
    text = "Would you like a demo?: Yes, early December"
    months_out, _ = buying_date(text, NOV_24, TIMELINE) or (None, "")
    assert months_out is not None and months_out > TIMELINE.settings["date_bands"]["buying_now"]


@pytest.mark.parametrize("key", ["Acara", "Etkinlik", "Evenemang", "Wydarzenie", "Sự kiện"])
def test_the_event_field_in_more_languages_names_the_campaign(key: str) -> None:
    assert field_for_key(key) == "campaign"


def test_breaking_into_a_market_is_no_failure() -> None:
    text = "We are breaking into the Nordic market next year and want to learn more."
    assert scored(make_lead(text), text)["need"]["band"] != "critical"
