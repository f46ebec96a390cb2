"""People introduce themselves in chats in many ways (issue 14): a role joined to its employer,
a contact card typed on one line, 'I'm with …', the Japanese company-の-name form."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest import parse_chat


def visitor(*lines: str) -> list[dict[str, str]]:
    return [{"role": "agent", "text": "Hi! How can I help?"},
            *({"role": "visitor", "text": line} for line in lines)]


@pytest.mark.parametrize(("line", "title", "company"), [
    ("Hello, Tomás Ruiz here, Head of Finance at Cobalto Foods.", "Head of Finance",
     "Cobalto Foods"),
    ("buenas, soy Lucía Prieto, jefa de sistemas de Grupo Alameda Norte", "jefa de sistemas",
     "Grupo Alameda Norte"),
    ("Ich bin Jonas Keller, Teamleiter Controlling bei der Keller Haustechnik GmbH.",
     "Teamleiter Controlling", "Keller Haustechnik GmbH"),
])
def test_a_role_joined_to_its_employer(line: str, title: str, company: str) -> None:
    parsed = parse_chat(visitor(line))
    assert parsed.get("title") == title
    assert parsed.get("company") == company


def test_a_contact_card_on_one_line() -> None:
    card = "Maja Lind, Nordhavn Retail, maja.lind@nordhavn.dk, +45 33 12 34 56"
    parsed = parse_chat(visitor("need a quote for our stores", card))
    assert parsed.get("full_name") == "Maja Lind"
    assert parsed.get("company") == "Nordhavn Retail"


def test_a_company_named_without_a_role() -> None:
    assert parse_chat(visitor("I'm with Brightlake Partners, we're looking at BI tools"))\
        .get("company") == "Brightlake Partners"


def test_the_japanese_company_no_name_form() -> None:
    parsed = parse_chat(visitor("株式会社みなと精機の佐藤です。見積もりをお願いします。"))
    assert parsed.get("company") == "株式会社みなと精機"


def test_a_title_word_inside_a_title_is_not_a_company() -> None:
    parsed = parse_chat(visitor("I'm Ana Ruiz, Director of Data Governance"))
    assert parsed.get("company") in (None, "")
