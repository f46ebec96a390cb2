"""A budget stated is not always money for a purchase like ours: nothing ("£0, it would have to
be free"), a few dollars a month, or money that depends on something ("if the numbers work",
"not fixed yet") — and an amount wrapped over a line break is still read whole (issue 14,
seventh blind round). Written for these tests."""

from __future__ import annotations

import pytest

from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("message", [
    "Honestly our budget is $0, so it would have to be the free plan.",
    "Tenemos un presupuesto de unos COP 80.000 al mes, no más.",
    "Budget approved: 20 EUR per month for one user.",
])
def test_a_budget_too_small_for_business_software_is_unlikely(message: str) -> None:
    assert scored(make_lead(message))["budget"]["band"] == "unlikely"


def test_a_price_per_user_is_no_total() -> None:
    lead = make_lead("Budget approved at EUR 25 per user per month for our 60 reps.")
    assert scored(lead)["budget"]["band"] == "clear_budget"


def test_a_real_monthly_budget_is_still_clear() -> None:
    lead = make_lead("Budget approved: EUR 2,500 per month for the sales team.")
    assert scored(lead)["budget"]["band"] == "clear_budget"


def test_an_amount_wrapped_over_a_line_is_read_whole() -> None:
    lead = make_lead("The board approved JPY 25\nmillion for this project last week.")
    assert scored(lead)["budget"]["band"] == "clear_budget"


@pytest.mark.parametrize("message", [
    "The budget is not fixed yet, perhaps EUR 40k a year.",
    "Our COO could put $90k in the 2027 plan if the numbers work.",
])
def test_money_that_depends_on_something_is_not_there_yet(message: str) -> None:
    assert scored(make_lead(message))["budget"]["band"] == "unclear_possible"
