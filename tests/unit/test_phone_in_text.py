"""Phone numbers found in free text with libphonenumber's matcher (issue 14): international
numbers anywhere, national ones only where the lead's other data says which country."""

from __future__ import annotations

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools.phone_text import phone_in_text


@pytest.mark.parametrize(("text", "regions", "expected"), [
    ("Ring me on 020 7946 0321 after lunch", ["GB"], "+442079460321"),
    ("Tel. 030 901820 (Zentrale)", ["DE"], "+4930901820"),
    ("mi cel es 55 1234 5678", ["MX"], "+525512345678"),
    ("WhatsApp +351 912 345 678", [], "+351912345678"),
    ("0033 1 42 68 53 00", [], "+33142685300"),
    ("電話：03-3201-1234", ["JP"], "+81332011234"),
])
def test_numbers_in_prose(text: str, regions: list[str | None], expected: str) -> None:
    assert phone_in_text(text, regions) == expected


@pytest.mark.parametrize(("text", "regions"), [
    ("call 020 7946 0321", []),  # a national number with no country to read it in
    ("PO 4500012345, invoice 2026-11-30", ["DE"]),
    ("we have 1,200 employees and 3,000,000 rows", ["US"]),
])
def test_no_number_or_no_country_gives_nothing(text: str, regions: list[str | None]) -> None:
    assert phone_in_text(text, regions) is None


def test_capture_reads_a_number_the_field_parsers_missed() -> None:
    record = extract_lead({"source": "chat", "received_at": "2026-11-18T09:00:00Z", "payload": [
        {"role": "visitor", "text": "Hi, Ana from Ribeira Vinhos, ana@ribeiravinhos.pt"},
        {"role": "visitor", "text": "best is my mobile: 912 345 678"}]})
    assert record["contact"]["phone"] == "+351912345678"  # region from the .pt address
