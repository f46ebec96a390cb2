"""Which of a lead's dates is the purchase: a date already past is none (the expo where they
met us, a scan's timestamp), a go-live date or the current contract's end puts the purchase a
little before it, and a "this week" on a step (a proposal, questions) gives way to a stated
award or go-live date (issue 14, seventh blind round: step and past dates had made leads
'buying now'). The sentences are written for these tests; arrival is 24 November 2026."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.purchase_date import buying_date
from leadflow.config import icp
from tests.unit.test_qualification import make_lead, scored

RULES = icp()
TIMELINE, NEED = RULES.bant["timeline"], RULES.bant["need"]
NOV_24 = date(2026, 11, 24)


def when(text: str) -> float | None:
    found = buying_date(text, NOV_24, TIMELINE, "DE", NEED)
    return None if found is None else round(found[0], 1)


@pytest.mark.parametrize("text", [
    "Badge scanned: 19 November 2026, hall 3.",
    "We met at your stand at the logistics fair on 17 November.",
])
def test_a_date_already_past_is_not_when_they_buy(text: str) -> None:
    assert when(text) is None


def test_a_go_live_date_puts_the_purchase_before_it() -> None:
    # go-live 1 March (3.2 months): the order is placed about a month earlier
    assert when("The new system has to go live by 1 March 2027.") == 2.2


def test_the_current_contract_ending_puts_the_purchase_before_it() -> None:
    # 28 February is 3.2 months after arrival; the replacement is bought a month before
    assert when("Unser Lizenzvertrag endet am 28.02.2027.") == 2.2
    assert when("Our licence agreement ends on 28 February 2027.") == 2.2


def test_a_date_in_an_austrian_award_decision_is_the_purchase() -> None:
    text = ("- Fragen zur Ausschreibung bis 4. Dezember 2026\n"
            "- Zuschlagsentscheidung voraussichtlich Ende Jänner 2027")
    found = when(text)  # the award in January, not the questions' date in December
    assert found is not None and 1.5 < found < 2.5


def test_a_rushed_proposal_gives_way_to_a_stated_go_live() -> None:
    lead = make_lead("Please send the proposal and prices this week. We plan the go-live for "
                     "the end of March 2027, the budget of EUR 80k is approved.")
    assert scored(lead)["timeline"]["band"] == "within_3_months"


def test_a_rushed_proposal_alone_still_means_buying_now() -> None:
    lead = make_lead("Budget approved. We want your proposal this week.")
    assert scored(lead)["timeline"]["band"] == "buying_now"


def test_being_away_over_a_holiday_is_no_timeline() -> None:
    assert when("I'm out over Christmas, so let's pick this up after that.") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Our trade show opens Feb 3, so we need it before then.", 2.3),
    ("The trial ends Dec 9 and we want to convert.", 0.5),
    ("Contract award: June 2027", 6.7),
])
def test_a_month_written_with_its_day_or_year(text: str, expected: float) -> None:
    assert when(text) == expected


@pytest.mark.parametrize("text", [
    "Registered: Nov 30, 2026 16:05:12",
    "Scan time: Dec 1 09:14",
    "we may 5x our volume next year",
])
def test_a_logged_timestamp_or_a_verb_is_no_date(text: str) -> None:
    assert when(text) is None
