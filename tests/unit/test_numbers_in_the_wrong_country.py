"""A phone number is read in the country it can belong to: a number dialled at home with a 0
is not American whatever country was guessed, a form's "User ID" is not Idaho, and the
common names of phone fields ("Contact Number", "Telemóvel", "No. HP") are phone fields; a
meetup's or a fair's city places its visitor, an address written inside an answer is the
address, and a platform profile is no company website (issue 14, seventh blind round: a
Kenyan mobile came out as +1 0722…). Written for these tests."""

from __future__ import annotations

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools.ingest.form import field_for_key
from leadflow.tools.places import country_of_event, country_of_place
from leadflow.tools.standardize import normalize_phone


def test_a_trunk_zero_is_no_american_number() -> None:
    assert normalize_phone("0733 201 544", "US") is None
    assert normalize_phone("0733 201 544", "KE") == "+254733201544"
    assert normalize_phone("(415) 555-0166", "US") == "+14155550166"


def test_a_leading_zero_stays_where_it_is_part_of_the_number() -> None:
    assert normalize_phone("06 4821 7730", "IT") == "+390648217730"


@pytest.mark.parametrize("text", ["User ID: 55120931", "Member ID MX-2291", "Order ID 88"])
def test_a_form_label_is_no_state(text: str) -> None:
    assert country_of_place(text) is None


def test_a_known_city_and_its_state_still_are() -> None:
    assert country_of_place("We are a 40-person firm based in Boise ID.") == "US"


@pytest.mark.parametrize("key", ["Contact Number", "Contact No.", "Telemóvel", "No. HP",
                                 "Số điện thoại", "Handphone"])
def test_common_names_of_phone_fields(key: str) -> None:
    assert field_for_key(key) == "phone"


@pytest.mark.parametrize(("event", "country"), [
    ("Leeds Sales Ops Breakfast #7", "GB"), ("Semana de Ventas Monterrey 2026", "MX"),
    ("Growth Meetup (online)", None), ("Dreamforce 2026", None),
])
def test_the_city_an_event_is_named_after(event: str, country: str | None) -> None:
    assert country_of_event(event) == country


def test_a_meetup_attendee_is_placed_in_the_meetups_city() -> None:
    lead = extract_lead({"id": "M-1", "source": "event", "payload": {
        "Name": "Tomás Ferreyra", "Event name": "Rosario Founders & RevOps Meetup",
        "Answer: what do you do?": "Sales lead at a 12-person agency. tferreyra.ops@gmail.com",
        "Phone (optional)": "0341 555-0142", "URL of Member Profile":
            "https://www.meetup.com/members/99120311/"}})
    assert lead["contact"]["email"] == "tferreyra.ops@gmail.com"  # written inside an answer
    assert lead["company"]["country"] == "AR"
    assert lead["company"]["domain"] is None  # a Meetup profile is not a company's website
