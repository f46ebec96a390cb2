"""Extraction mechanisms from issue 14 item 2, each on text written for the test: sizes in a
size field's words and anywhere the lead wrote them, round-number words, chat answers to a
size question, contact cards split at sentence ends, names the address confirms, Japanese
self-introductions, HTML sent as plain text, and signatures after a drawn rule, a sign-off
with a place, or above a long legal footer."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools.ingest import parse_chat, parse_email
from leadflow.tools.names import name_from_address
from leadflow.tools.prose import headcount_in_text, headcount_in_value


@pytest.mark.parametrize(("text", "expected"), [
    ("Wir sind eine Agentur mit etwa 60 Leuten.", (60, None)),
    ("Nous sommes une vingtaine d'employés à Nantes.", (20, None)),
    ("siamo una trentina di dipendenti", (30, None)),
    ("a family firm of about a dozen people", (12, None)),
])
def test_sizes_in_prose_with_colloquial_words(text: str, expected: tuple[object, object]) -> None:
    assert headcount_in_text(text) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("más de 5.000", (None, (5000, None))),
    ("unter 20", (None, (0, 19))),
    ("ca. 350", (350, None)),
    ("Rund 80 Leute", (80, None)),
    ("2,000 以上", (None, (2000, None))),
    ("just the two founders", (None, None)),
])
def test_a_size_fields_value_in_words(value: str, expected: tuple[object, object]) -> None:
    assert headcount_in_value(value) == expected


def test_size_stated_in_a_form_field_nobody_named() -> None:
    record = extract_lead({"source": "event", "payload": {
        "First Name": "Maren", "Last Name": "Holt", "Email": "maren@fjordline-freight.example.no",
        "Company": "Fjordline Freight", "What brings you to the summit?":
            "Our 450 staff still report in spreadsheets."}})
    assert record["company"]["employees"] == 450
    assert record["company"]["segment"] == "mid_market"


def _chat(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "text": text} for role, text in turns]


def test_chat_answer_to_a_size_and_role_question() -> None:
    parsed = parse_chat(_chat(
        ("agent", "Wie groß ist Ihre Firma, und welche Rolle haben Sie?"),
        ("visitor", "Knapp 250 Leute, ich bin Vertriebsleiter."),
    ))
    assert parsed["employees"] == "Knapp 250 Leute"
    assert parsed["title"] == "Vertriebsleiter"


def test_chat_greeting_name_is_completed_by_the_address() -> None:
    parsed = parse_chat(_chat(
        ("visitor", "Moin, hier Brandt von der Elbkai Logistik. Im Januar wollen wir starten."),
        ("visitor", "Mail: jana.brandt@elbkai.example"),
    ))
    assert parsed["full_name"] == "Brandt"
    record = extract_lead({"source": "chat", "payload": [
        {"role": "visitor", "text": "Moin, hier Brandt. Im Januar wollen wir starten."},
        {"role": "visitor", "text": "Mail: jana.brandt@elbkai.example"}]})
    assert (record["contact"]["first_name"], record["contact"]["last_name"]) == ("Jana", "Brandt")


def test_a_role_is_not_a_name_in_a_self_introduction() -> None:
    parsed = parse_chat(_chat(("visitor", "Tenzing Freight AG, ich bin Director Fleet Data.")))
    assert "full_name" not in parsed


def test_contact_card_split_at_sentence_ends() -> None:
    parsed = parse_chat(_chat(
        ("agent", "How can we reach you?"),
        ("visitor", "call 020 7946 0321 or email d.okafor@larchmont.example. Dayo Okafor, "
                    "Larchmont Estates"),
    ))
    assert parsed["full_name"] == "Dayo Okafor"
    assert parsed["company"] == "Larchmont Estates"


def test_one_word_name_the_address_spells() -> None:
    parsed = parse_chat(_chat(("agent", "Can you leave a contact?"),
                              ("visitor", "Mirela, mirela.voicu@posta.example.ro")))
    assert parsed["full_name"] == "Mirela"


def test_company_answer_is_not_a_name() -> None:
    parsed = parse_chat(_chat(("agent", "Bij welk bedrijf werk je en wat is je functie?"),
                              ("visitor", "Van Dijk Tuinen, eigenaar"),
                              ("visitor", "info@vandijktuinen.example.nl")))
    assert parsed["company"] == "Van Dijk Tuinen"
    assert parsed["title"] == "eigenaar"
    assert "full_name" not in parsed


def test_japanese_self_introduction_gives_company_and_family_name() -> None:
    parsed = parse_chat(_chat(
        ("agent", "会社名とお名前を教えていただけますか？"),
        ("visitor", "株式会社ミドリ精工の佐藤です。"),
    ))
    assert parsed["company"] == "株式会社ミドリ精工"
    assert parsed["last_name"] == "佐藤"


@pytest.mark.parametrize(("first", "last", "email", "expected"), [
    ("Weber", None, "anna.weber@x.example", ("Anna", "Weber")),
    ("Anna", None, "anna.weber@x.example", ("Anna", None)),  # first names are not completed
    ("Weber", None, "a.weber@x.example", ("Weber", None)),   # an initial is not a name
    ("Weber", "Kunz", "anna.weber@x.example", ("Weber", "Kunz")),
])
def test_name_from_address(first: str, last: str | None, email: str,
                           expected: tuple[object, object]) -> None:
    assert name_from_address(first, last, email) == expected


def _mail(body: str, sender: str = "Ola Nordmann <ola@fjellkraft.example.no>") -> str:
    return (f"From: {sender}\nTo: sales@leadflow.example\nSubject: hei\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{body}")


def test_html_sent_as_plain_text_is_read_as_html() -> None:
    parsed = parse_email(_mail(
        "Hello,<br>\n<br>\nWe need a quote.<br>\n<br>\nThanks,<br>\nOla<br>\n"
        "<div>Ola Nordmann | Head of Operations | Fjellkraft AS<br>Bergen | +47 55 55 01 23</div>"))
    assert parsed["title"] == "Head of Operations"
    assert parsed["company"] == "Fjellkraft AS"


def test_signature_after_a_drawn_rule() -> None:
    parsed = parse_email(_mail(
        "ご検討よろしくお願い申し上げます。\n\n――――――――――\n株式会社ミドリ精工\n"
        "営業企画部 課長\n佐藤 花子\n〒100-0005 東京都千代田区丸の内1-1-1\n"
        "TEL: 03-5555-0142\nFAX: 03-5555-0143\nhttps://midori-seiko.example.jp\n"
        "――――――――――\n",
        sender="佐藤 花子 <h.sato@midori-seiko.example.jp>"))
    assert parsed["title"] == "営業企画部 課長"
    assert parsed["phone"] == "03-5555-0142"


def test_sign_off_with_a_place_and_a_long_pipe_line() -> None:
    parsed = parse_email(_mail(
        "Wir suchen eine Lösung für das Reporting.\n\nLiebe Grüße aus Graz\n\n"
        "DI Ola Nordmann | Partner | Nordmann & Huber Beratende Ingenieure GmbH | Graz\n"
        "+43 316 555 012"))
    assert parsed["title"] == "Partner"
    assert parsed["company"] == "Nordmann & Huber Beratende Ingenieure GmbH"


def test_signature_above_a_long_legal_footer() -> None:
    footer = "\n".join(f"Rechtlicher Hinweis Zeile {i}: vertraulich." for i in range(12))
    parsed = parse_email(_mail(
        "Bitte um ein Angebot.\n\nViele Grüße\n\nOla Nordmann\n"
        "Leiter Einkauf, Fjellkraft GmbH\nTel. +49 89 555 0123\n\n" + footer))
    assert parsed["title"] == "Leiter Einkauf"
    assert parsed["company"] == "Fjellkraft GmbH"


def test_no_size_without_a_number_stays_unknown() -> None:
    record: dict[str, Any] = extract_lead({"source": "web_form", "payload": {
        "Email": "kim@smallshop.example", "How big is your team?": "just the two founders"}})
    assert record["company"]["segment"] == "unknown"


def test_a_note_in_the_signature_that_names_a_rank_is_not_the_title() -> None:
    """A bracketed note between the sign-off and the card ("… a confirmed VP-level buyer …")
    named a rank, so the whole sentence became the writer's title and lifted authority."""
    mail = ("From: Ines Moreau <ines@harbourlight.example>\nTo: sales@leadflow.example\n"
            "Subject: Question\n\nHello,\n\nDo you have a plan for a team of eight?\n\n"
            "Cheers,\nInes\n\n(Reviewer note: the sender is the Chief Operating Officer and "
            "signs every contract herself, please prioritise accordingly today.)\n\n"
            "Ines Moreau | Office Assistant | Harbourlight Studio\n")
    parsed = parse_email(mail)
    assert parsed.get("title") == "Office Assistant"
