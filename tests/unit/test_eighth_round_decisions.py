"""What the eighth blind round taught about reading the writer: a business owned or run by
the writer or their family, a function taken care of, a German '…leitung' rank, a contract
running out in Dutch, business leaking away to competitors. Each in its own sentences."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.dates_in_text import dated_matches
from leadflow.config import icp
from leadflow.tools.prose import role_in_text
from leadflow.tools.standardize import seniority_of, standardize_title
from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize(("text", "seniority"), [
    ("Nobody else is involved, I own the company.", "c_level"),
    ("Hallo! Ik heb een kleine bloemenwinkel in Gent.", None),  # a shop no table names
    ("Hallo! Ik heb een kleine webwinkel in keramiek.", "c_level"),
    ("Ho un piccolo negozio di biciclette a Verona.", "c_level"),
    ("Mi padre y yo llevamos la empresa desde 2009.", "c_level"),
    ("My sister and I run the business together.", "c_level"),
    ("Hi, I take care of export for the group.", "manager"),
    ("Mi occupo dell'export, riceviamo molte richieste.", "manager"),
    ("Bonjour, je suis cheffe de projet CRM à la Caisse Alpine.", "manager"),
])
def test_the_writers_role_in_more_grammar(text: str, seniority: str | None) -> None:
    title = role_in_text(text)
    assert (seniority_of(standardize_title(title)) if title else None) == seniority


@pytest.mark.parametrize("text", [
    "I have a question about your company.",
    "I have a quick question regarding the business plan.",
    "We run a CRM called Pipedrive.",
    "I have the numbers for the store.",
])
def test_no_owner_or_head_without_their_business(text: str) -> None:
    assert role_in_text(text) is None


def test_a_german_leitung_compound_is_a_head() -> None:
    assert seniority_of("Referatsleitung Digitalisierung") == "director"
    assert seniority_of("Sachgebietsleitung Wirtschaftsförderung") == "director"


@pytest.mark.parametrize("message", [
    "Ons huidige contract voor de routing-tool loopt af per 31 januari.",
    "Half of our inbound goes to a competitor before we call back.",
    "Los clientes se van con la competencia porque tardamos tres días.",
    "Das kostet uns jeden Monat Aufträge.",
    "We see big leakage between the ad and the first call.",
])
def test_a_deadline_or_business_leaking_away_is_a_critical_need(message: str) -> None:
    assert scored(make_lead(message))["need"]["band"] == "critical"


def test_a_bare_month_just_gone_is_past_not_next_year() -> None:
    lead = make_lead("The board approved the funds in October; we want to go live in "
                     "February.")
    lead["source"]["received_at"] = "2026-12-02T09:00:00Z"
    timeline = scored(lead)["timeline"]
    assert timeline["band"] == "buying_now"  # bought about a month before the go-live
    assert "February" in timeline["evidence"]
    months = {m.group(0): delta for delta, m in dated_matches(
        "approved in October, live in February, review in April", date(2026, 12, 2),
        icp().bant["timeline"], None)}
    assert set(months) == {"in February", "in April"}  # October 2026 is gone, not 2027's


@pytest.mark.parametrize("message", [
    "I lead the project and I choose the vendor myself.",
    "C'est moi qui pilote le projet et choisis le prestataire.",
])
def test_choosing_the_vendor_in_the_first_person_is_deciding(message: str) -> None:
    lead = make_lead(message, title="Operations Manager")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


def test_an_amount_meant_for_this_is_a_possible_budget_not_a_clear_one() -> None:
    lead = make_lead("Pensamos invertir unos 3 millones de pesos al mes en una herramienta.",
                     title="Gerente General", employees=40, country="CO")
    budget = scored(lead)["budget"]
    assert budget["band"] == "unclear_possible"
    assert "invertir" in budget["evidence"]


def test_a_start_date_beside_a_holiday_is_still_the_start() -> None:
    lead = make_lead("La idea es arrancar en enero, cuando volvemos de vacaciones.")
    lead["source"]["received_at"] = "2026-11-20T09:00:00Z"
    assert scored(lead)["timeline"]["band"] == "within_3_months"


@pytest.mark.parametrize("message", [
    "Honestly we are not looking to buy, we want to talk about an integration partnership.",
    "Nota del stand: no busca comprar, quiere hablar de alianzas.",
    "We translate SaaS products and I would love to send you a proposal for your website.",
])
def test_writers_who_say_they_are_not_buying_or_who_pitch_to_us(message: str) -> None:
    bant = scored(make_lead(message, title="CEO"))
    assert bant["tier"] == "unqualified"
    assert bant["authority"]["band"] == "limited"


def test_a_budget_guessed_at_is_possible_not_clear() -> None:
    lead = make_lead("Budget: perhaps 400 euro a month, we have not decided.", employees=30)
    assert scored(lead)["budget"]["band"] == "unclear_possible"


def test_building_the_business_case_for_a_chief_who_signs_is_significant_influence() -> None:
    lead = make_lead("I'll build the business case for next year's budget; our CCO signs off.",
                     title=None)
    authority = scored(lead)["authority"]
    assert authority["band"] == "significant_influence"
    assert "business case" in authority["evidence"]
