"""An e-mail address is never lost to a form's or an export's quirks: a CSV row whose value held
an unquoted comma (every later column shifted by one) is joined back where the values fit
their columns, and an address under a key no table knows is still the lead's address
(issue 14, seventh blind round: two leads, one of them a repeat inquiry, lost their address).
The rows and forms are written for these tests."""

from __future__ import annotations

from leadflow.tools.ingest import parse_item


def _event(csv_text: str) -> dict[str, str]:
    _, parsed = parse_item({"id": "E-1", "source": "event", "payload": csv_text})
    return dict(parsed)


def test_an_unquoted_comma_in_a_company_is_joined_back() -> None:
    parsed = _event("Company,Last name,First name,Email,Phone\n"
                    "Brightwater Foods Co., Ltd.,Osei,Ama,ama.osei@brightwaterfoods.com,"
                    "+233 30 277 1190\n")
    assert parsed["company"] == "Brightwater Foods Co., Ltd."
    assert parsed["email"] == "ama.osei@brightwaterfoods.com"
    assert parsed["phone"] == "+233 30 277 1190"
    assert parsed["first_name"] == "Ama"


def test_the_join_is_where_the_columns_fit_not_the_first_comma() -> None:
    parsed = _event("Name,Title,Organisation,Email\n"
                    "Jonas Berg,Head of Sales,Nordvik Marin, Avd. Bergen,"
                    "jonas.berg@nordvikmarin.no\n")
    assert parsed["email"] == "jonas.berg@nordvikmarin.no"
    assert parsed["title"] == "Head of Sales"
    assert parsed["company"].startswith("Nordvik Marin")


def test_a_well_formed_row_is_read_as_it_is() -> None:
    parsed = _event('Company,Email\n"Lumio, Inc.",kai@lumio.io\n')
    assert parsed == {**parsed, "company": "Lumio, Inc.", "email": "kai@lumio.io"}


def test_an_address_under_an_unknown_key_is_the_address() -> None:
    _, parsed = parse_item({"id": "F-1", "source": "web_form", "payload": {
        "Ad": "Deniz", "Soyad": "Aksoy",
        "Kurumsal E-postanız": "deniz.aksoy@marmaralojistik.com.tr",
        "Telefon": "0212 555 40 12", "Şirket": "Marmara Lojistik A.Ş."}})
    assert parsed["email"] == "deniz.aksoy@marmaralojistik.com.tr"
    assert parsed["phone"] == "0212 555 40 12"


def test_a_postal_code_is_no_address() -> None:
    _, parsed = parse_item({"id": "F-2", "source": "web_form", "payload": {
        "Nome": "Lucia Ferri", "Codice postale": "20121", "Telefono": "02 8716 4430"}})
    assert "email" not in parsed
