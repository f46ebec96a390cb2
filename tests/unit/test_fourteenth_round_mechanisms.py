"""What the fourteenth blind round taught, as general mechanisms in sentences of their own:
a budget whose approval is still to come, holidays of lunar calendars and Carnival as dates,
a support topic chosen from a menu, a vendor offering its services to us, a board listed in
a legal footer, a thanks before the sign-off and a sign-off above a footer behind '--'."""

from __future__ import annotations

import re
from datetime import date

import pytest

from leadflow.agents.budget_words import approval_ahead
from leadflow.agents.dates_in_text import dated_mentions
from leadflow.config import load_icp
from leadflow.tools.ingest import parse_email
from leadflow.tools.prose import headcount_in_text, without_legal_form
from leadflow.tools.standardize import is_freemail
from tests.unit.test_qualification import make_lead, scored

ICP = load_icp()
ARRIVAL = date(2026, 11, 30)


@pytest.mark.parametrize(("message", "pending"), [
    ("Orçamento 2027 aprovado em dezembro.", True),
    ("The budget will be approved by the board in January.", True),
    ("Das Budget wird im Februar freigegeben.", True),
    ("Budget approved, go-live in February.", False),
    ("We have budget approved and want to go live in March.", False),
    ("Das Budget wurde im Oktober freigegeben.", False),
    ("We've signed off EUR 180k for a data platform in this financial year.", False),
])
def test_a_budget_approved_on_a_date_still_to_come(message: str, pending: bool) -> None:
    budget, timeline = ICP.bant["budget"], ICP.bant["timeline"]
    clear = re.search(r"(?i)budget|orçamento|signed off", message)
    assert clear is not None
    found = approval_ahead(message, clear, budget, timeline, ARRIVAL, "BR")
    assert (found is not None) is pending


def test_a_pending_approval_keeps_the_budget_possible_not_clear() -> None:
    lead = make_lead("We have a budget line for CRM tools in 2027 but it must be approved by "
                     "our board in February.")
    assert scored(lead)["budget"]["band"] == "unclear_possible"


@pytest.mark.parametrize(("text", "months"), [
    ("on veut démarrer avant Ramadan", 2.6),        # 8 Feb 2027
    ("after Chinese New Year", 2.3),                # 6 Feb 2027
    ("depois do Carnaval", 2.7),                    # 9 Feb 2027 (Easter 28 Mar - 47)
    ("we plan to start after Songkran", 4.5),       # 13 Apr 2027
    ("before Diwali next autumn", 11.0),            # 29 Oct 2027
])
def test_holidays_of_moving_calendars_are_dates(text: str, months: float) -> None:
    found = dated_mentions(text, ARRIVAL, ICP.bant["timeline"], "MA")
    assert found and abs(found[0][0] - months) < 0.4, found


@pytest.mark.parametrize("message", [
    "Soporte\nSomos clientes desde marzo, los leads no se asignan.",
    "inquiry_type: Support\nThe CSV import fails with an error.",
])
def test_a_support_topic_chosen_from_a_menu_is_a_support_case(message: str) -> None:
    result = scored(make_lead(message))
    assert result["total"] < 40 and result["need"]["band"] == "unclear"


def test_a_buyer_asking_about_support_is_still_a_buyer() -> None:
    lead = make_lead("Do you offer support in Spanish? We need lead routing for 40 reps "
                     "and want to go live in January.")
    assert scored(lead)["need"]["band"] != "unclear"


@pytest.mark.parametrize("message", [
    "We can provide dedicated team from 25 USD/hour. Would you be open to a call to discuss "
    "how we can help your roadmap?",
    "Our company could offer you a dedicated QA team.",
    "Cooperation proposal - become Kaltera distributor in South China.",
    "你好，我们想做你们的代理，想了解你们的渠道政策。",
    "I want my phone number removed from your lists immediately.",
])
def test_writers_who_are_not_buying(message: str) -> None:
    assert scored(make_lead(message))["total"] < 40


def _mail(body: str) -> str:
    return ("From: Tobias Reinartz <tobias.reinartz@rb-kalltal.de>\nTo: info@leadflow.example\n"
            f"Subject: Information request\n\n{body}\n")


def test_a_board_listed_in_a_footer_is_nobodys_title() -> None:
    parsed = parse_email(_mail(
        "Could you please send me whitepapers on hosting?\n\n"
        "Thank you in advance and kind regards\n\nTobias Reinartz\n"
        "Referent Vertriebsmanagement\nRaiffeisenbank Unteres Kalltal eG\n"
        "Telefon 02472 9907-314\n\n"
        "Raiffeisenbank Unteres Kalltal eG | Sitz: Monschau\n"
        "Vorstand: Michael Esser, Dr. Claudia Brandenburg | Vorsitzender des Aufsichtsrates: "
        "Heinz-Josef Kreutz"))
    assert parsed.get("title") == "Referent Vertriebsmanagement"


def test_a_sign_off_above_a_footer_behind_a_rule_opens_the_signature() -> None:
    parsed = parse_email(_mail(
        "Budget ist freigegeben.\n\nMit freundlichen Grüßen\n\nJörg Weinbrenner\n"
        "Leiter Digitalisierung & IT-Anwendungen\nMüller & Söhne Präzisionstechnik GmbH\n"
        "Tel. +49 7231 4480-215\n\n--\n"
        "Müller & Söhne Präzisionstechnik GmbH · Sitz Pforzheim · HRB 501234\n"
        "Geschäftsführung: Dr. Konrad Albrecht, Martin Müller"))
    assert parsed.get("title") == "Leiter Digitalisierung & IT-Anwendungen"


def test_a_signature_behind_a_rule_stays_the_signature() -> None:
    parsed = parse_email(_mail(
        "What's the cheapest plan?\n\nThanks,\nJordan\n\n--\nJordan Blake\n"
        "Blake & Finch Creative\nblakeandfinch.co"))
    assert parsed.get("company") == "Blake & Finch Creative"


@pytest.mark.parametrize(("bare", "registered"), [
    ("Foxhollow Payments", "Foxhollow Payments Pte. Ltd."),
    ("Conservas Atlântico", "Conservas Atlântico, Lda."),
    ("Oleificio Carrozzo & Figli", "Oleificio Carrozzo & Figli s.n.c."),
    ("Kaltenbrunner Consulting", "Kaltenbrunner Consulting e.U."),
    ("Anantapur Agro Implements", "Anantapur Agro Implements Pvt. Ltd."),
])
def test_more_legal_forms_name_the_same_company(bare: str, registered: str) -> None:
    assert without_legal_form(bare) == without_legal_form(registered)


@pytest.mark.parametrize(("message", "band"), [
    # an amount wrapped after the sentence is read whole: "AUD 60-80k", not "AUD 60-80"
    ("Good news - our CFO signed off this morning. We've got AUD 60-80k for year one.",
     "clear_budget"),
    ("Budget voté pour T1 2027 sur le projet 'excellence commerciale'.", "clear_budget"),
    ("Le budget primitif 2027 est voté fin mars, rien avant.", "unclear_possible"),
    # Italian "né" (nor) negates what follows it
    ("Solo una raccolta di informazioni, non c'è un progetto approvato né un budget.",
     "unlikely"),
])
def test_budget_words_read_whole(message: str, band: str) -> None:
    assert scored(make_lead(message))["budget"]["band"] == band


def test_not_knowing_about_the_budget_does_not_deny_it() -> None:
    lead = make_lead("Honestly I don't know about budget, I'm just the analyst.", employees=4800)
    assert scored(lead)["budget"]["band"] != "unlikely"
    denied = make_lead("There is no budget left this year and I don't know if the directors "
                       "want it next year.", employees=120)
    assert scored(denied)["budget"]["band"] == "unlikely"


def test_a_team_in_brackets_is_not_the_company() -> None:
    assert headcount_in_text("we'd also want the new conveyancing team (5 people) on it") \
        == (None, None)
    assert headcount_in_text("We're a team of 45.") == (45, None)


@pytest.mark.parametrize("domain", ["btinternet.com", "xtra.co.nz", "comcast.net",
                                    "bigpond.com"])
def test_consumer_internet_providers_mail_is_free_mail(domain: str) -> None:
    assert is_freemail(domain)


def test_money_set_aside_makes_a_concrete_project() -> None:
    lead = make_lead("Das Budget (ca. 90.000 € für das erste Jahr) ist von der "
                     "Geschäftsführung freigegeben. Können Sie uns Informationen schicken?")
    assert scored(lead)["need"]["band"] == "clear_improvement"
    curious = make_lead("Budget approved for 2027. Just curious what you offer, no project.")
    assert scored(curious)["need"]["band"] != "clear_improvement"


def test_a_person_replying_to_an_automatic_reply_is_no_auto_reply() -> None:
    lead = make_lead("RE: Automatic reply: Follow-up on our call\nBurak is on leave, I take "
                     "over. The platform is in our 2027 investment plan and the tender opens "
                     "in January.")
    assert scored(lead)["need"]["band"] != "unclear"


def test_an_approval_named_as_a_noun_with_a_date_to_come_is_pending() -> None:
    lead = make_lead("Budget for this we prepare in the 2027 plan, I think approval in Q1.")
    assert scored(lead)["budget"]["band"] == "unclear_possible"


def test_asking_to_be_contacted_again_later_sets_no_purchase_date() -> None:
    lead = make_lead("Timing isn't right, we just renewed. Reach back out in Q2 and I'm happy "
                     "to take a look then.")
    assert scored(lead)["timeline"]["band"] == "unclear_or_distant"


def test_a_production_start_is_a_go_live() -> None:
    lead = make_lead("Wir haben entschieden, LeadFlow einzuführen. Unser Ziel ist der "
                     "Produktivstart zum 1. Februar 2027.")
    assert scored(lead)["timeline"]["band"] == "buying_now"


@pytest.mark.parametrize("message", [
    "We want to sign the contract before the end of the year.",
    "A ideia é contratar ainda este ano.",
    "Wir wollen noch dieses Jahr bestellen.",
])
def test_the_end_of_the_year_is_a_date(message: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == "buying_now"


def test_a_quote_before_the_end_of_the_year_is_a_step_before_the_purchase() -> None:
    assert scored(make_lead("Queremos cotizar antes de fin de año."))["timeline"]["band"] \
        == "within_3_months"


def test_this_years_budget_is_no_purchase_date() -> None:
    lead = make_lead("Our budget for this year is spent.")
    assert scored(lead)["timeline"]["band"] == "unclear_or_distant"


def test_the_writer_named_as_the_one_who_signs_decides() -> None:
    lead = make_lead("Quem assina sou eu junto com o CFO.", title="Diretor Comercial")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"
