"""The lead's country from a city or state it names (issue 14), only in a place context and
only where the name belongs mostly to one country."""

from __future__ import annotations

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools.places import country_of_place


@pytest.mark.parametrize(("text", "country"), [
    ("We run four clinics in Edinburgh and Glasgow.", "GB"),
    ("Spedition aus Linz, ca. 90 Leute", "AT"),
    ("somos una distribuidora en Guadalajara", "MX"),
    ("nous sommes basés à Bordeaux", "FR"),
    ("Harbor Freightways, Tacoma, WA", "US"),
    ("our office (Auckland) handles billing", "NZ"),
])
def test_a_named_place_gives_the_country(text: str, country: str) -> None:
    assert country_of_place(text) == country


@pytest.mark.parametrize("text", [
    "we're strong in Enterprise sales",          # an ordinary word, not the town
    "Best, Austin",                              # a first name after a closing
    "Atlas Freight (Pty) Ltd",                   # no place word at all
    "a team in Hamilton",                        # shared by Canada and New Zealand
])
def test_no_place_or_an_ambiguous_one_gives_nothing(text: str) -> None:
    assert country_of_place(text) is None


def test_capture_takes_the_country_and_the_phone_from_a_named_city() -> None:
    record = extract_lead({"source": "chat", "received_at": "2026-11-18T09:00:00Z", "payload": [
        {"role": "visitor", "text": "Hi, Marco here, we're a logistics firm in Turin. "
                                    "Call me on 011 555 0147, marco@quadrifoglio-log.com"}]})
    assert record["company"]["country"] == "IT"
    assert record["contact"]["phone"] == "+390115550147"
    assert "country_from_place" in record["flags"]


def test_a_legal_form_after_a_company_name_is_no_state_code() -> None:
    from leadflow.tools.places import country_of_place

    assert country_of_place("Offert från Fjällräv Logistik AB, tack") is None  # aktiebolag
    assert country_of_place("Grupo Andino Foods SA wants a demo") is None
    assert country_of_place("our depot in Red Deer AB is the pilot") == "CA"  # a city, then AB
    assert country_of_place("Tacoma, WA") == "US"
