"""What the ninth blind round taught, in its own sentences: the writer's decision in more
languages, losing business in the past tense, a state nobody accepts."""

from __future__ import annotations

import pytest

from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("message", [
    "Budsjettet er godkjent og jeg er ansvarlig for anskaffelsen.",
    "Budgeten är klar och jag har mandat att teckna avtal.",
    "Il budget c'è e la scelta del fornitore spetta a me.",
    "Anggaran sudah ada, saya yang pegang keputusan untuk sistem ini.",
    "Bütçe hazır, son karar benim.",
])
def test_the_writers_own_decision_in_more_languages(message: str) -> None:
    lead = make_lead(message, title="Sales Director")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


@pytest.mark.parametrize("message", [
    "Vi förlorade en stor affär förra månaden för att ingen ringde tillbaka.",
    "Vi tapte tre ordrer i høst fordi forespørslene lå i innboksen.",
    "En octubre perdimos unas 30 solicitudes por no contestar a tiempo.",
    "Abbiamo perso clienti importanti: i tempi di risposta sono inaccettabili.",
    "Our response times are unacceptable for a company our size.",
])
def test_business_already_lost_or_a_state_nobody_accepts_is_critical(message: str) -> None:
    assert scored(make_lead(message))["need"]["band"] == "critical"


def test_a_loss_denied_is_no_critical_need() -> None:
    assert scored(make_lead("We have not lost any deals, we just want tidier routing."))[
        "need"]["band"] != "critical"


@pytest.mark.parametrize("message", [
    "Vi er ikke interessert i å kjøpe selv, men vil gjerne høre om deres partnerprogram.",
    "Not a buyer: wants a co-marketing deal for their chatbot. Pass to partnerships.",
    "I'm a technology journalist writing a feature on sales tools; could your CEO do an "
    "interview?",
])
def test_partners_and_the_press_are_not_buyers(message: str) -> None:
    assert scored(make_lead(message, title="CEO"))["tier"] == "unqualified"


@pytest.mark.parametrize("message", [
    "Hallo Support-Team, seit dem Update werden unsere Leads doppelt angelegt.",
    "Hei support, to brukere får ikke logget inn og fakturaen har feil på faktura-linjene.",
])
def test_an_existing_customers_support_case_is_no_purchase(message: str) -> None:
    assert scored(make_lead(message))["tier"] == "unqualified"


def test_a_customer_rolling_us_out_further_is_buying_again() -> None:
    message = ("Ticket 48177: duplicates after the import. Separately, we plan to roll it out "
               "to our Monterrey branch next quarter.")
    assert scored(make_lead(message))["tier"] != "unqualified"


def test_an_amount_with_the_currency_word_after_it_in_spanish() -> None:
    from leadflow.agents.money import money_amounts
    assert money_amounts("tenemos aprobado hasta 12 mil dólares al año") == [12000.0]
    assert money_amounts("unas 3.000 libras") == [3000.0]


def test_the_current_tool_running_out_on_a_day_written_without_its_year() -> None:
    lead = make_lead("Unser aktuelles Tool läuft zum 28.02. aus und muss bis dahin ersetzt sein.")
    lead["source"]["received_at"] = "2026-12-01T09:00:00Z"
    bant = scored(lead)
    assert bant["need"]["band"] == "critical"
    assert bant["timeline"]["band"] in ("buying_now", "within_3_months")


@pytest.mark.parametrize("message", ["Prazo para contratar: imediato.",
                                     "Plazo de compra: inmediato."])
def test_an_immediate_purchase_in_more_languages_is_buying_now(message: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == "buying_now"


def test_a_day_and_month_just_gone_is_past() -> None:
    from datetime import date

    from leadflow.agents.dates_in_text import dated_matches
    from leadflow.config import icp
    found = [m.group(0) for _, m in dated_matches(
        "Messe am 25.11. war gut; Start am 15.01.", date(2026, 12, 2), icp().bant["timeline"],
        "DE")]
    assert found == ["15.01."]
