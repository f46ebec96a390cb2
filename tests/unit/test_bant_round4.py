"""The fourth blind round's classes (bant5): formal procurement dates, a writer preparing
someone else's decision, non-buyers (the press, sellers pitching, erasure requests), budgets
kept private. Every sentence is written for this file."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from leadflow.agents.budget_words import budget_denied
from leadflow.agents.buyer_signals import non_buyer_said
from leadflow.agents.capture import extract_lead
from leadflow.agents.purchase_date import buying_date
from leadflow.agents.qualification import propose_rules
from leadflow.config import icp

RULES = icp()
BUDGET, AUTHORITY = RULES.bant["budget"], RULES.bant["authority"]
TIMELINE = RULES.bant["timeline"]
ARRIVED = date(2026, 11, 20)


def bands(message: str, title: str = "Operations Manager", **fields: Any) -> dict[str, str]:
    payload = {"First Name": "Lena", "Last Name": "Marsh", "Work Email": "lena@corvid-labs.com",
               "Job Title": title, "Company": "Corvid Labs", **fields, "Message": message}
    lead = extract_lead({"id": "R4-1", "source": "web_form",
                         "received_at": "2026-11-20T09:00:00Z", "payload": payload})
    proposal = propose_rules(lead, lead["inquiry"], RULES)
    return {name: getattr(proposal, name).band
            for name in ("budget", "authority", "need", "timeline")}


def months(text: str) -> float:
    found = buying_date(text, ARRIVED, TIMELINE, "DE")
    assert found is not None
    return found[0]


# --- formal procurement: the award date, else the tender's own date ----------------------

@pytest.mark.parametrize("text", [
    "Questions by 30 November. Demo slots in early December.\nAward: end of February 2027",
    "Bids close on 8 January, shortlist visits in mid January, and the contract award is "
    "planned for 26 February 2027.",
    "Fragen bis 1. Dezember.\nZuschlag: Ende Februar 2027",
])
def test_an_award_date_is_the_purchase_whatever_comes_before(text: str) -> None:
    assert 2.5 < months(text) <= 3.5  # within three months, not the questions' now


@pytest.mark.parametrize("text", [
    "Our council signs the budget in December. Expected tender: second half of 2027.",
    "El presupuesto se aprueba en diciembre. Fecha prevista de licitación: segundo semestre "
    "de 2027.",
])
def test_a_tender_date_outweighs_an_earlier_budget_step(text: str) -> None:
    assert months(text) > 6.5


def test_a_quotation_deadline_is_when_a_tender_buys() -> None:
    text = ("Supplier briefing: 25 November\nRFQ closing date: 11 December 2026\n"
            "Go-live: 1 March 2027")
    assert months(text) < 1.5


# --- authority: the writer prepares the decision another signs ------------------------

@pytest.mark.parametrize("text", [
    "Our COO signs the order; I make the recommendation after the trial.",
    "I am the project lead for the new reporting stack and our board will approve it.",
    "Quien firma es nuestra directora general; yo coordino el proyecto y hago la "
    "recomendación.",
    "Unser Vorstand entscheidet auf meinen Vorschlag.",
])
def test_a_writer_who_prepares_the_decision_has_significant_influence(text: str) -> None:
    assert bands(text, title="Analyst")["authority"] == "significant_influence"


# --- non-buyers ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I'm a journalist covering retail tech and would value a written comment by Friday.",
    "Press enquiry: could someone talk to us about automation in sales for an article?",
    "We are looking for sponsors for our spring hackathon, the sponsorship deck is attached.",
    "Under UK GDPR I ask you to erase all personal data you hold about me.",
    "I saw you're hiring engineers; worth a quick chat about our nearshore teams?",
])
def test_the_press_pitches_and_erasure_requests_are_not_buyers(text: str) -> None:
    assert non_buyer_said(text, AUTHORITY) is not None


@pytest.mark.parametrize("text", [
    "Please keep us on your mailing list, we will evaluate tools in spring.",
    "We run appointment setting for clinics and need one system for all clients.",
    "I am the project sponsor and need a quote for 40 seats.",
])
def test_buyers_describing_themselves_are_not_non_buyers(text: str) -> None:
    assert non_buyer_said(text, AUTHORITY) is None


def test_a_recruiters_title_is_a_non_buyer() -> None:
    assert bands("Coming to your meetup next week.", title="Recruiter")["budget"] == "unlikely"


# --- money and contracts ------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "The funding is approved; we don't disclose the budget at this stage.",
    "We will not share our budget before the shortlist.",
])
def test_a_budget_kept_private_is_not_denied(text: str) -> None:
    assert budget_denied(text, BUDGET) is None
    assert budget_denied("Wir haben kein Budget dafür.", BUDGET) is not None


@pytest.mark.parametrize("text", [
    "Vi har budsjettert med et nytt rapportverktøy neste år.",
    "We have budgeted for a new planning tool in 2027.",
    "Nuestro director ya aprobó una partida de MXN 900 mil para esto.",
])
def test_a_budget_planned_or_approved_in_other_words_is_clear(text: str) -> None:
    assert bands(text)["budget"] == "clear_budget"


@pytest.mark.parametrize("text", [
    "Vores aftale med den nuværende leverandør udløber 28. februar.",
    "Our licence runs out on 31 January and we do not want to renew it.",
])
def test_a_contract_ending_soon_in_any_language_is_critical(text: str) -> None:
    assert bands(text)["need"] == "critical"


def test_renewing_on_other_terms_without_a_near_date_is_not_critical() -> None:
    assert bands("We do not want to renew our contract on the same terms in 2028."
                 )["need"] != "critical"


@pytest.mark.parametrize("text", ["We would like to start next month.",
                                  "来月から使い始めたいです。"])
def test_next_month_is_buying_now(text: str) -> None:
    assert bands(text)["timeline"] == "buying_now"


@pytest.mark.parametrize("text", [
    "Sign-off is due in January, but nothing will be bought before summer 2027.",
    "Wir kaufen nicht vor Ostern 2027, die Freigabe kommt im Dezember.",
])
def test_a_negated_before_is_the_earliest_purchase_not_a_deadline(text: str) -> None:
    assert months(text) > 4.0


def test_a_plain_before_is_still_a_deadline() -> None:
    assert months("We need the dashboards before March.") < 3.5
