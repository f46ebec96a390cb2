"""Extraction mechanisms the fourth blind round asked for, each on text written for the test:
ranks in Nordic, Finnish, Chinese, Korean and Japanese titles and self-descriptions, a title
joining two roles, someone else's rank in an assistant's title, students by their coursework,
a shared mailbox with the person in Reply-To, Chinese and Japanese names written without a
space, a family name first as the address confirms, honorifics and nicknames, signatures
signed on someone's behalf or above a register footer, and a national phone number placed by
the writing it sits in."""

from __future__ import annotations

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.config import standardize_tables
from leadflow.tools.ingest import parse_email
from leadflow.tools.ingest.signature import parse_signature
from leadflow.tools.names import name_from_address, split_name
from leadflow.tools.roles import role_in_text
from leadflow.tools.standardize import seniority_of
from leadflow.tools.writing import countries_of_writing, phone_by_writing


@pytest.mark.parametrize(("title", "expected"), [
    ("Inköpschef", "director"),
    ("IT-sjef", "director"),
    ("Myyntijohtaja", "director"),
    ("Projektipäällikkö", "manager"),
    ("Chef de projet BI", "manager"),
    ("Finansdirektør", "c_level"),
    ("Toimitusjohtaja", "c_level"),
    ("市场部 总监", "director"),
    ("銷售經理", "manager"),
    ("Vicerrectora Académica", "vp"),
    ("Socia Gerente", "c_level"),
    ("EVP & Chief Financial Officer", "c_level"),
    ("Founder / Head of Product", "c_level"),
    ("Assistant to the CEO & CFO", "individual_contributor"),
    ("Assistente del Presidente", "individual_contributor"),
    ("HR Business Partner", "individual_contributor"),
    ("Staff Writer and Reporter", "individual_contributor"),
])
def test_ranks_in_more_languages_and_joined_titles(title: str, expected: str) -> None:
    assert seniority_of(title) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Hej, jag är ekonomichef på ett litet rederi.", "ekonomichef"),
    ("Hei, olen hankintapäällikkö ja etsin työkalua.", "hankintapäällikkö"),
    ("저는 물류팀 과장 이서준입니다.", "과장"),
    ("我是一家物流公司的采购经理。", "采购经理"),
    ("営業の責任者なので判断できます。", "責任者"),
    ("I run a small pottery workshop with two apprentices.", "Managing Director"),
    ("sono il titolare di un piccolo negozio", "titolare"),
    ("Currently writing my thesis on supply-chain dashboards.", "Student"),
    ("I'm an analyst on the pricing team at a retailer.", "analyst"),
])
def test_the_writers_own_role(text: str, expected: str) -> None:
    assert role_in_text(text) == expected


def test_a_shared_mailbox_with_the_person_in_reply_to() -> None:
    raw = ("From: Purchasing Office <purchasing@harbourline.example.com>\n"
           "Reply-To: Tomas Lindqvist <t.lindqvist@harbourline.example.com>\n"
           "To: sales@leadflow.example\nSubject: Request for quotation\n\n"
           "Please quote 40 licences.\n\nTomas Lindqvist\nBuyer\n")
    parsed = parse_email(raw)
    assert parsed["full_name"] == "Tomas Lindqvist"
    assert parsed["email"] == "t.lindqvist@harbourline.example.com"


def test_a_mailbox_without_reply_to_takes_the_signed_name() -> None:
    raw = ("From: Ufficio Acquisti <acquisti@fornacebassa.example.it>\n"
           "To: sales@leadflow.example\nSubject: Offerta\n\n"
           "Vorremmo un preventivo.\n\nCordiali saluti,\n\nMarta Colombo\n"
           "Assistente della Direzione\n\n--\n"
           + "Questo messaggio e i suoi allegati sono riservati e destinati unicamente al "
             "destinatario indicato; ogni altro uso è vietato.\n")
    parsed = parse_email(raw)
    assert parsed["full_name"] == "Marta Colombo"
    assert parsed["title"] == "Assistente della Direzione"


@pytest.mark.parametrize(("full", "expected"), [
    ("李娜", ("娜", "李")),
    ("黄志强", ("志强", "黄")),
    ("司马光明", ("光明", "司马")),
    ("鈴木はるか", ("はるか", "鈴木")),
    ("佐々木健太郎", ("佐々木健太郎", None)),  # four kanji or more: where it splits is unwritten
    ("Smt. Kavita Rao", ("Kavita", "Rao")),
    ("Ana “Nina” Duarte", ("Ana", "Duarte")),
])
def test_names_split_by_script_and_without_honorifics(full: str,
                                                      expected: tuple[str, str | None]) -> None:
    assert split_name(full) == expected


def test_a_family_name_first_as_the_address_spells_it() -> None:
    assert name_from_address("Goh", "Mei Xin", "meixin.goh@example.com.sg") == ("Mei Xin", "Goh")


def test_signatures_on_behalf_and_above_a_register_footer() -> None:
    signed = parse_signature("i. V. Sabine Kroll\nReferatsleiterin Controlling\n"
                             "Kreiswerke Nord GmbH\n"
                             "Geschäftsführer: Dr. Peter Hahn | Amtsgericht Kiel HRB 999")
    assert signed["full_name"] == "Sabine Kroll"
    assert signed["title"] == "Referatsleiterin Controlling"
    po_box = parse_signature("Amina Wanjiru\nFinance Manager\nP.O. Box 12345-00200, Nairobi\n"
                             "Tel: +254 20 765 4321 / 0733 765 432")
    assert po_box["phone"] == "+254 20 765 4321"


@pytest.mark.parametrize(("text", "expected"), [
    ("Hej! Vi är ett litet bolag och jag undrar om ni har svensk support.", ("SE",)),
    ("お世話になっております。資料をお送りください。", ("JP",)),
    ("我们想了解一下价格。", ("CN", "SG")),
    ("我們想了解一下價格。", ("TW", "HK")),
    ("We have about £40k for this.", ("GB",)),
    ("Olá, você pode me enviar o preço? Não tenho pressa.", ("BR", "PT")),
    ("Hello, please send a quote.", ()),
    ("Hei! Jeg ønsker gjerne et tilbud, takk.", ("NO",)),
    ("Hei, olen kiinnostunut: meillä on tarve raportoinnille.", ("FI",)),
])
def test_the_countries_a_writing_points_to(text: str, expected: tuple[str, ...]) -> None:
    assert countries_of_writing(text) == expected


def test_the_writing_table_is_words_and_country_codes() -> None:
    # YAML 1.1 reads a bare NO as false and a bare on as true: quoted in standardize.yaml
    languages = standardize_tables().places["writing"]["languages"]
    for name, language in languages.items():
        assert all(isinstance(c, str) and len(c) == 2 for c in language["countries"]), name
        assert all(isinstance(w, str) for w in language["words"]), name


def test_a_national_number_counts_only_when_valid_in_exactly_one_country() -> None:
    assert phone_by_writing("(21) 98765-4321", "", ("BR", "PT")) == "+5521987654321"
    assert phone_by_writing(None, "ring mig på 070-123 45 67", ("SE",)) == "+46701234567"
    assert phone_by_writing("070-123 45 67", "", ()) is None


def test_a_chat_in_swedish_places_its_mobile_number() -> None:
    lead = extract_lead({"source": "chat", "payload": [
        {"role": "visitor", "text": "Hej, jag är inköpschef och vi behöver ett nytt BI-verktyg."},
        {"role": "visitor", "text": "maja@fjallbacken.example.com, mobil 070-123 45 67"},
    ]})
    assert lead["contact"]["phone"] == "+46701234567"
    assert lead["company"]["country"] == "SE"
    assert lead["contact"]["seniority"] == "director"


def test_a_signature_of_a_name_then_what_the_person_does_and_where() -> None:
    parsed = parse_email({"from": "Lena Hart <lena.hart@brightfold.example.com>",
                          "subject": "pricing?",
                          "body": "Could you send a price list?\n\nLena Hart\n"
                                  "Finance Ops, Brightfold Studios\nLeeds"})
    assert parsed["title"] == "Finance Ops"
    assert parsed["company"] == "Brightfold Studios"


def test_a_sole_proprietor_in_japanese() -> None:
    assert seniority_of(role_in_text("フリーランスの個人事業主です。")) == "c_level"
