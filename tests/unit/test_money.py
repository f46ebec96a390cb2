"""Money is read by its written form — currency before or after, grouping and decimal marks
of any convention, multipliers in several scripts, ranges — and compared in US dollars.
The sentences are this file's own, not any dataset's."""

from __future__ import annotations

import pytest

from leadflow.agents.money import money_amounts, number_value
from leadflow.config import icp

RULES = icp()


@pytest.mark.parametrize(("written", "value"), [
    ("1,200,000", 1_200_000), ("1.200.000", 1_200_000), ("1 200 000", 1_200_000),
    ("1'200'000", 1_200_000), ("40,000.00", 40_000), ("40.000,00", 40_000),
    ("1,5", 1.5), ("2.75", 2.75), ("1.200", 1_200), ("85.000,", 85_000),
    ("1.234.567,89", 1_234_567.89),
])
def test_numbers_in_every_grouping_convention(written: str, value: float) -> None:
    assert number_value(written) == pytest.approx(value)


@pytest.mark.parametrize(("text", "country", "usd"), [
    ("We set aside USD 25,000.00 for the first year.", None, [25_000]),     # crashed before
    ("Budget: CHF 180'000 for the rollout", None, [203_400]),
    ("Vi har avsatt 500 000 kr till projektet.", "SE", [46_000]),
    ("Rammen er kr 400.000 eks. moms.", "NO", [36_000]),
    ("予算は800万円程度です。", "JP", [53_600]),
    ("预算大约80万元。", "CN", [112_000]),
    ("預算 NT$250萬", "TW", [77_500]),
    ("We can spend about ₹15 lakh this year.", "IN", [17_700]),
    ("Sanctioned amount INR 3 crore.", None, [354_000]),
    ("Anggaran kami Rp 750 juta.", "ID", [47_250]),
    ("Tenemos 20 millones de pesos asignados.", "CO", [4_600]),
    ("A budget of EUR 40-60k is planned.", None, [42_400, 63_600]),
    ("¥3,000,000 has been approved.", "CN", [420_000]),
])
def test_amounts_in_local_forms_are_read_and_converted(text: str, country: str | None,
                                                       usd: list[int]) -> None:
    assert [round(a) for a in money_amounts(text, RULES, country)] == usd


@pytest.mark.parametrize("text", [
    "We would like to try 3 seats first.",
    "Please update the form 5 times a day.",
    "Annual Turnover: INR 420 crore",
    "年營業額: 約新台幣30億元",
    "연 매출은 약 900억원입니다.",
])
def test_no_money_or_only_company_figures(text: str) -> None:
    assert money_amounts(text, RULES, None) == []


def test_an_amount_no_software_deal_reaches_is_not_a_big_deal() -> None:
    from leadflow.agents.qualification import review_reason

    lead = {"company": {"country": "IN", "employees": 300}}
    bant = {"tier": "warm", "conflicts": [], "total": 70}
    assert review_reason(bant, lead, "We originate about INR 1,500 crore of loans a year.",
                         RULES) is None  # $177M: the company's volume, not a budget
    assert review_reason(bant, lead, "INR 12 crore is approved for the platform.",
                         RULES) == "big_deal"  # $1.4M


@pytest.mark.parametrize(("text", "usd"), [
    # a range's unit belongs to an end written smaller, not to one already in full
    ("We have roughly $1,500-2k a month earmarked.", [1_500, 2_000]),
    ("Somewhere between $1.5-2M for the programme.", [1_500_000, 2_000_000]),
    ("Allowance of USD 800-1.2k per seat.", [800, 1_200]),
])
def test_a_range_unit_applies_only_where_it_is_missing(text: str, usd: list[int]) -> None:
    assert [round(a) for a in money_amounts(text, RULES, None)] == usd


@pytest.mark.parametrize("text", [
    "annualrevenue: $50M - $100M",                       # a form tool's glued key
    "Annual_Revenue__c: USD 20,000,000",
    "We carry about $6-7M in avoidable write-offs a year.",  # what the problem costs
    "Perdemos unos 2 millones de pesos al año por leads sin respuesta.",
    "Une marque avec un CA de 13 M€ environ.",            # chiffre d'affaires, abbreviated
])
def test_company_figures_and_problem_costs_are_not_spend(text: str) -> None:
    assert money_amounts(text, RULES, "MX") == []


def test_a_glued_key_needs_a_long_word_and_spend_beside_a_loss_stays() -> None:
    # 'arr' is inside 'carrier' but names nothing there; the budget in its own clause counts
    assert money_amounts("carrier_budget: $40k", RULES, None) == [40_000]
    assert money_amounts("Losses hurt us; the budget is $90k.", RULES, None) == [90_000]
