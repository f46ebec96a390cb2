"""Issue 14: mechanisms that make the offline rules hold on text nobody wrote them for. Every
sentence here was written for this file (none is copied from a dataset); each test names the
class of inputs its mechanism covers."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.agents.qualification import money_amounts, propose_rules, review_reason, score_bant
from leadflow.config import icp

RULES = icp()


def form_lead(message: str, **fields: Any) -> dict[str, Any]:
    payload = {"First Name": "Ines", "Last Name": "Okafor", "Work Email": "ines@tarnwell.com",
               "Job Title": "Head of Finance", "Company": "Tarnwell", **fields,
               "Message": message}
    return extract_lead({"id": "G-1", "source": "web_form",
                         "received_at": "2026-11-20T09:00:00Z", "payload": payload})


# --- money that describes the company is not money to spend -----------------------------

@pytest.mark.parametrize(("text", "usd"), [
    ("We are a fintech doing roughly $45M in ARR and want a quote.", []),
    ("Our revenue is about EUR 300M, budget for this project is EUR 80k.", [84_800]),
    ("Jahresumsatz ca. 90 Mio. EUR, wir brauchen ein Angebot.", []),
    ("Tras cerrar una ronda Series B de USD 20M, queremos ordenar los datos.", []),
    ("We have $1.5M set aside for the platform.", [1_500_000]),
])
def test_revenue_arr_and_funding_are_not_deal_sizes(text: str, usd: list[int]) -> None:
    assert [round(a) for a in money_amounts(text, RULES, "US")] == usd


def test_a_company_stating_its_revenue_is_not_a_big_deal_for_review() -> None:
    lead = form_lead("We're a marketplace at $60M ARR. Our finance reporting lives in "
                     "spreadsheets and we want it fixed by February.")
    bant = score_bant(propose_rules(lead, lead["inquiry"], RULES), RULES)
    assert review_reason(bant, lead, lead["inquiry"], RULES) is None
    assert bant["budget"]["band"] != "clear_budget"  # revenue is not an approved budget


# --- negation and hedging move the budget and need bands ---------------------------------

def bands(message: str, **fields: Any) -> dict[str, str]:
    lead = form_lead(message, **fields)
    proposal = propose_rules(lead, lead["inquiry"], RULES)
    return {name: getattr(proposal, name).band for name in ("budget", "need")}


@pytest.mark.parametrize("message", [
    "There is no approved budget yet, we would need it in place by May.",
    "Kein festes Budget bisher, aber wir möchten bis Juni etwas in place haben.",
])
def test_a_negated_budget_noun_is_no_budget_stated(message: str) -> None:
    assert bands(message)["budget"] != "clear_budget"


@pytest.mark.parametrize("message", [
    "Budget is provisionally reserved for next year; finance still has to sign it.",
    "We have a budget line for the platform, but the scope is not final.",
    "Das Budget ist vorbehaltlich der Zustimmung des Vorstands eingeplant.",
    "Le budget est réservé sous réserve de validation par la direction.",
])
def test_a_hedged_budget_is_unclear_possible(message: str) -> None:
    assert bands(message)["budget"] == "unclear_possible"


def test_an_unhedged_budget_stays_clear() -> None:
    assert bands("Budget is approved and reserved for this project.")["budget"] == "clear_budget"


@pytest.mark.parametrize("message", [
    "We are drafting next year's budget and want an indicative price.",
    "The budget request for 2027 goes to the board in March.",
])
def test_budget_talk_outweighs_size_for_a_big_company(message: str) -> None:
    lead = form_lead(message)
    lead["company"]["employees"] = 9_000
    assert propose_rules(lead, lead["inquiry"], RULES).budget.band == "unclear_possible"
    silent = form_lead("We want to consolidate our reporting.")
    silent["company"]["employees"] = 9_000
    assert propose_rules(silent, silent["inquiry"], RULES).budget.band == "likely_from_size"


@pytest.mark.parametrize("message", [
    "Nothing urgent on our side, just wondering about the price of a small plan.",
    "Rien d'urgent, je voulais simplement connaître vos tarifs.",
    "Niente di urgente, vorrei solo sapere i prezzi.",
])
def test_negated_urgency_is_not_critical(message: str) -> None:
    assert bands(message)["need"] != "critical"


def test_a_budget_sentence_expecting_the_money_keeps_the_size_reading() -> None:
    lead = form_lead("Consolidating six ERPs. Budget probably not an issue at our size.")
    lead["company"]["employees"] = 9_000
    assert propose_rules(lead, lead["inquiry"], RULES).budget.band == "likely_from_size"


# --- phones: a switchboard's extension, a number without a country ------------------------

def chat(*visitor: str) -> dict[str, Any]:
    turns = [{"role": "agent", "text": "Hello, how can we help?"}]
    turns += [{"role": "visitor", "text": line} for line in visitor]
    return extract_lead({"id": "C-1", "source": "chat", "received_at": "2026-11-20T09:00:00Z",
                         "payload": turns})


@pytest.mark.parametrize(("line", "e164"), [
    ("Erreichbar unter 030 8812 45-0, Durchwahl 217.", "+4930881245217"),
    ("Tel. +43 1 532 66-0 DW 48, frag nach Frau Berger", "+431532664 8".replace(" ", "")),
    ("Zentrale 089 7710 3-0 (Nebenstelle 12)", "+4989771031 2".replace(" ", "")),
    ("Ruf mich an: 030 8812 4521", "+493088124521"),  # no switchboard: as written
])
def test_a_switchboard_and_its_extension_are_one_direct_line(line: str, e164: str) -> None:
    lead = chat("Wir sind ein Großhändler in Berlin mit 120 Leuten.", line)
    assert lead["contact"]["phone"] == e164


def test_an_extension_to_a_number_that_is_not_a_switchboard_is_not_appended() -> None:
    lead = chat("We're a dental group in Leeds.", "Call 0113 496 0777 ext 21, ask for Priya.")
    assert lead["contact"]["phone"] == "+441134960777"


def test_a_phone_without_a_country_still_reaches_the_person() -> None:
    lead = chat("Do you have something for a 12 person shop?", "Call me on 0871 552 0193, Kofi")
    assert lead["contact"]["phone"] is None  # E.164 needs a country nobody named
    assert "phone_country_unknown" in lead["flags"]
    assert lead["usable_contact"] is True


def test_text_without_any_number_is_still_unreachable() -> None:
    lead = chat("Just looking, no contact details for now, thanks.")
    assert lead["usable_contact"] is False


@pytest.mark.parametrize(("line", "country"), [
    ("We run 6 pharmacies around Brisbane, call 07 3155 0192", "AU"),
    ("Three warehouses outside Rotterdam, bel 010 555 0193", "NL"),
])
def test_a_city_after_a_preposition_of_place_gives_the_phone_its_country(
        line: str, country: str) -> None:
    lead = chat(line)
    assert lead["company"]["country"] == country
    assert lead["contact"]["phone"] is not None
