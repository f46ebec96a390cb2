"""An existing customer's support case that reached sales is not a purchase; a customer
asking for more is. Sentences are this file's own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadflow.agents.qualification import propose_rules, score_bant
from leadflow.agents.support_case import support_case
from leadflow.config import icp

RULES = icp()
AUTHORITY = RULES.bant["authority"]


@pytest.mark.parametrize("text", [
    "Hi, our nightly import has been failing since Monday. Case number 204417, no answer yet.",
    "We are an existing customer and the dashboard is not loading for anyone today.",
    "Account no. AC-88231 — every export ends with an error, please escalate.",
    "Somos clientes de vocês e o relatório não funciona desde ontem (chamado 7781).",
    "Nous sommes clients depuis 2024 et la synchronisation ne marche pas.",
])
def test_a_customer_reporting_a_problem_is_a_support_case(text: str) -> None:
    assert support_case(text, AUTHORITY) is not None


@pytest.mark.parametrize("text", [
    # a prospect's pain with their current vendor: no sign they are our customer
    "Our current CRM keeps failing and the sync is broken every week. We need a replacement.",
    "In our case 400 users hit errors daily with the old reporting tool.",
    # a customer buying more is a buyer
    "Existing customer here: the export is broken, and we also want 25 more seats for sales.",
    # a customer without a problem (an ordinary question)
    "We are an existing customer and would like to know about the new forecasting module.",
])
def test_not_a_support_case(text: str) -> None:
    assert support_case(text, AUTHORITY) is None


def test_a_support_case_is_scored_as_a_non_buyer_whatever_its_urgency() -> None:
    lead = {"contact": {"seniority": "manager", "title": "Operations Manager"},
            "company": {"employees": 800, "domain": "example.org"},
            "source": {"received_at": "2026-11-20T09:00:00Z"}}
    text = ("URGENT: since this morning no lead is assigned to anyone, 80 are stuck. Support "
            "ticket 55120 has had no reply. Please fix today!")
    bant = score_bant(propose_rules(lead, text, RULES, datetime(2026, 11, 20, tzinfo=UTC)), RULES)
    assert bant["need"]["band"] == "unclear"
    assert bant["tier"] == "unqualified"
