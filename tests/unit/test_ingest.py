"""leadflow.tools.ingest: form keys, RFC 822 email, chat transcripts, item dispatch and the file
readers behind `leadflow run`."""

from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from leadflow.identity import item_fingerprint
from leadflow.tools.ingest import (
    IngestError,
    UnreadableFile,
    field_for_key,
    parse_chat,
    parse_email,
    parse_fields,
    parse_item,
    read_items,
)

# ------------------------------------------------------------------------- form keys


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("Work E-mail", "email"),
        ("  First Name* ", "first_name"),
        ("LAST_NAME", "last_name"),
        ("E-Mail-Adresse", "email"),
        ("your-email", "email"),
        ("Business Email Address", "email"),
        ("Correo electrónico", "email"),
        ("Phone Number (optional)", "phone"),
        ("Mobile Phone", "phone"),
        ("Company / Organization", "company"),
        ("会社名", "company"),
        ("Job Title", "title"),
        ("Country/Region", "country"),
        ("país", "country"),
        ("What are you looking for?", "inquiry"),
        ("Message", "inquiry"),
        ("Number of Employees", "employees"),
        ("Company Size", "employees"),
        ("Headcount", "employees"),
        ("Website URL", "website"),
        ("Nombre", "first_name"),
        ("Apellido", "last_name"),
        ("Vorname", "first_name"),
        ("Prénom", "first_name"),
        ("Nom", "last_name"),
        ("Industry", "industry"),
        ("Event Name", "campaign"),
        ("utm_source", "utm"),
        ("UTM_Medium", "utm"),
    ],
)
def test_field_for_messy_keys(key: str, field: str) -> None:
    assert field_for_key(key) == field


@pytest.mark.parametrize(
    ("key", "field"),
    [
        # a short word matches only a whole word: 'tel' is not 'tell', 'land' is not 'landing'
        ("Tell us what you need", "inquiry"),
        ("landing_page_variant", None),
        # a size question names the company too; the size wins
        ("How many people work at your organisation?", "employees"),
        ("orgSize", "employees"),
        ("data.companySize", "employees"),
        ("totalEmployees", "employees"),
        # both parts of a name, or a name with a 'whole' word: the full name
        ("Nom et prénom", "full_name"),
        ("Vorname_Nachname", "full_name"),
        ("Nome completo do responsável", "full_name"),
        ("Nombre de la empresa", "company"),
        ("Firm / agency name", "company"),
        ("Plan name", None),
        ("Mensaje adicional", "inquiry"),
    ],
)
def test_field_for_keys_by_whole_words(key: str, field: str | None) -> None:
    assert field_for_key(key) == field


def test_a_second_column_for_a_field_is_kept_as_text() -> None:
    parsed = parse_fields({"Company": "Brightwater Tiles", "Organisation": "Brightwater Group",
                           "Email": "a@brightwater-tiles.example"})
    assert parsed["company"] == "Brightwater Tiles"
    assert "Organisation: Brightwater Group" in parsed["text"]


@pytest.mark.parametrize("key", ["zzz", "How did you hear about us?", "", "  ", None])
def test_field_for_unknown_keys_is_none(key: str | None) -> None:
    assert field_for_key(key) is None


def test_parse_fields_keeps_unknown_columns_and_junk_email_as_text() -> None:
    parsed = parse_fields({
        "Email": "call me 555-1234", "Name": "Bob", "UTM_Source": "google",
        "Comments": "first", "Message": "second", "Favourite colour": "blue",
        "Job Title": "<b>CTO</b>", "Empty": "  ",
    })
    assert "email" not in parsed
    assert parsed["full_name"] == "Bob"
    assert parsed["inquiry"] == "first\nsecond"
    assert parsed["utm"] == {"utm_source": "google"}
    assert parsed["title"] == "CTO"  # HTML stripped
    assert "Favourite colour: blue" in parsed["text"]
    assert "email: call me 555-1234" in parsed["text"]


def test_utm_campaign_is_kept_with_the_other_utm_fields() -> None:
    parsed = parse_fields({"utm_source": "google", "utm_campaign": "q4-launch"})
    assert parsed["campaign"] == "q4-launch"
    assert parsed["utm"] == {"utm_source": "google", "utm_campaign": "q4-launch"}


# ----------------------------------------------------------------------------- email

SIGNED_REPLY = """\
From: "Priya Nair" <priya.nair@lumenhealth.com>
To: sales@leadflow.example
Subject: Scheduling platform replacement

Hi team,

We need to replace our scheduling system this quarter. Can we get pricing?

Best regards,
Priya Nair
VP of Engineering | Lumen Health Partners
M: +1 (303) 555-0147
www.lumenhealth.com

On Mon, Nov 23, 2026 at 9:00 AM Sales <sales@leadflow.example> wrote:
> Thanks for your interest! Call me at +1 212 555 0000
> John Doe, CEO at Wrong Corp
"""


def test_parse_email_with_closing_signature_and_quoted_reply() -> None:
    parsed = parse_email(SIGNED_REPLY)
    assert parsed["email"] == "priya.nair@lumenhealth.com"
    assert parsed["full_name"] == "Priya Nair"
    assert parsed["title"] == "VP of Engineering"
    assert parsed["company"] == "Lumen Health Partners"
    assert parsed["phone"] == "+1 (303) 555-0147"
    assert parsed["website"] == "www.lumenhealth.com"
    assert parsed["inquiry"].startswith("Scheduling platform replacement\n")
    assert "pricing" in parsed["inquiry"]
    assert "Best regards" not in parsed["inquiry"]
    # nothing from the quoted message leaks in
    assert "Wrong Corp" not in parsed["text"]
    assert "212 555" not in parsed["text"]


def test_parse_email_with_dash_dash_signature() -> None:
    raw = ("From: kenji@sakura-logistics.co.jp\nSubject: Inquiry\n\n"
           "Hello, interested in a demo.\n\n-- \nKenji Sato\n"
           "Head of IT, Sakura Logistics K.K.\nTel: 03-1234-5678\n")
    parsed = parse_email(raw)
    assert parsed["email"] == "kenji@sakura-logistics.co.jp"
    assert parsed["full_name"] == "Kenji Sato"
    assert parsed["title"] == "Head of IT"
    assert parsed["company"] == "Sakura Logistics K.K."
    assert parsed["phone"] == "03-1234-5678"
    assert parsed["inquiry"] == "Inquiry\nHello, interested in a demo."


def test_parse_email_signature_without_marker() -> None:
    raw = ("From: Ana Costa <ana@costa.com.br>\nSubject: Demo\n\n"
           "We would like a demo of the platform for our stores.\n\n"
           "Ana Costa\nGerente de TI\nCosta Varejo Ltda")
    parsed = parse_email(raw)
    assert parsed["title"] == "Gerente de TI"
    assert parsed["company"] == "Costa Varejo Ltda"
    assert parsed["inquiry"] == "Demo\nWe would like a demo of the platform for our stores."


def test_parse_email_signature_without_marker_and_trailing_newline() -> None:
    raw = ("From: Ana Costa <ana@costa.com.br>\nSubject: Demo\n\n"
           "We would like a demo of the platform for our stores.\n\n"
           "Ana Costa\nGerente de TI\nCosta Varejo Ltda\n")
    parsed = parse_email(raw)
    assert parsed["title"] == "Gerente de TI"
    assert parsed["company"] == "Costa Varejo Ltda"
    assert parsed["inquiry"] == "Demo\nWe would like a demo of the platform for our stores."


def test_parse_email_outlook_original_message_is_cut() -> None:
    raw = ("From: tom@acme.com\nSubject: RE: offer\n\nSend me the pricing please.\n\nThanks,\n"
           "Tom Jones\nCTO, Acme Robotics\n\n-----Original Message-----\n"
           "From: Bob <bob@vendor.example>\nSent: Monday\nBob Seller, CEO at Vendor Inc\n")
    parsed = parse_email(raw)
    assert parsed["title"] == "CTO"
    assert parsed["company"] == "Acme Robotics"
    assert "Vendor" not in parsed["text"]


def test_parse_email_quoted_reply_is_cut_without_a_signature() -> None:
    raw = ("From: Priya Nair <priya.nair@lumenhealth.com>\nSubject: Re: your offer\n\n"
           "Yes please send pricing, we need it this month.\n\n"
           "On Mon, Nov 23, 2026 at 9:00 AM Bob Seller <bob@vendor.example> wrote:\n"
           "> Budget approved, we are the decision maker.\n> Bob Seller, CEO at Vendor Inc\n")
    parsed = parse_email(raw)
    assert parsed["inquiry"] == ("Re: your offer\n"
                                 "Yes please send pricing, we need it this month.")
    assert "Budget approved" not in parsed["text"]


def test_parse_email_base64_body() -> None:
    message = EmailMessage()
    message["From"] = "José García <jose.garcia@acme.es>"
    message["Subject"] = "Presupuesto aprobado — señal"
    message.set_content(
        "Hola,\n\nNecesitamos una solución urgente. Presupuesto aprobado: 50.000 €.\n\n"
        "Saludos,\nJosé García\nDirector de Operaciones, Acme Ibérica S.L.\n"
        "Tel: +34 91 123 45 67\n",
        charset="utf-8", cte="base64",
    )
    raw = message.as_string()
    assert "Content-Transfer-Encoding: base64" in raw
    assert "Necesitamos" not in raw  # really encoded
    parsed = parse_email(raw)
    assert parsed["full_name"] == "José García"  # RFC 2047 header decoded
    assert parsed["email"] == "jose.garcia@acme.es"
    assert parsed["title"] == "Director de Operaciones"
    assert parsed["company"] == "Acme Ibérica S.L."
    assert parsed["phone"] == "+34 91 123 45 67"
    assert parsed["inquiry"] == (
        "Presupuesto aprobado — señal\nHola,\n\n"
        "Necesitamos una solución urgente. Presupuesto aprobado: 50.000 €.")


def test_parse_email_quoted_printable_body() -> None:
    message = EmailMessage()
    message["From"] = "Jürgen Müller <j.mueller@mueller-soehne.de>"
    message["Subject"] = "Anfrage"
    message.set_content(
        "Grüße aus München — wir brauchen eine Lösung für Qualitätsprüfung.\n\n"
        "Mit freundlichen Grüßen\nJürgen Müller\nLeiter Qualität bei Müller & Söhne\n"
        "Telefon: +49 89 1234567\n",
        charset="utf-8", cte="quoted-printable",
    )
    raw = message.as_string()
    assert "=C3=BC" in raw  # really encoded
    parsed = parse_email(raw)
    assert parsed["full_name"] == "Jürgen Müller"
    assert parsed["title"] == "Leiter Qualität"
    assert parsed["company"] == "Müller & Söhne"
    assert parsed["phone"] == "+49 89 1234567"
    assert "Qualitätsprüfung" in parsed["inquiry"]
    assert "freundlichen" not in parsed["inquiry"]


def test_parse_email_html_only_body() -> None:
    message = EmailMessage()
    message["From"] = "Ana Costa <ana@costa.com.br>"
    message["Subject"] = "Demo"
    message.set_content(
        "<html><body><p>Ol&aacute;, gostar&iacute;amos de uma demo.</p>"
        "<p>Atenciosamente,<br>Ana Costa<br>Gerente de TI<br>Costa Varejo Ltda</p>"
        "<script>alert('x')</script></body></html>",
        subtype="html",
    )
    parsed = parse_email(message.as_string())
    assert parsed["inquiry"] == "Demo\nOlá, gostaríamos de uma demo."
    assert parsed["title"] == "Gerente de TI"
    assert parsed["company"] == "Costa Varejo Ltda"
    assert "<" not in parsed["text"]
    assert "alert" not in parsed["text"]


def test_parse_email_multipart_prefers_plain_text() -> None:
    message = EmailMessage()
    message["From"] = "Tom Jones <tom@acme.com>"
    message["Subject"] = "Pricing"
    message.set_content("Plain body: please send pricing.")
    message.add_alternative("<p>HTML body: please send pricing.</p>", subtype="html")
    parsed = parse_email(message.as_string())
    assert parsed["inquiry"] == "Pricing\nPlain body: please send pricing."


def test_parse_email_dict_payload() -> None:
    parsed = parse_email({"from": "Tom <tom@acme.com>", "subject": "Hi",
                          "body": "Need pricing.\n\nThanks,\nTom Jones\nCTO, Acme"})
    assert parsed["email"] == "tom@acme.com"
    # a one-word display name the signed name starts with is completed by it
    assert parsed["full_name"] == "Tom Jones"
    assert parsed["title"] == "CTO"
    assert parsed["company"] == "Acme"
    assert parsed["inquiry"] == "Hi\nNeed pricing."
    other = parse_email({"from": "Bob <bob@acme.com>", "subject": "Hi",
                         "body": "Need pricing.\n\nThanks,\nRobert Jones\nCTO, Acme"})
    assert other["full_name"] == "Bob"  # the name the person goes by wins over the signature


def test_a_display_name_with_its_company_and_a_credential_after_a_signed_name() -> None:
    parsed = parse_email({"from": "Nadia | Quarrystone <nadia@quarrystone.io>", "subject": "Hi",
                          "body": "Pricing?\n\nBest,\nNadia Osei\nHead of Ops, Quarrystone"})
    assert parsed["full_name"] == "Nadia Osei"
    parsed = parse_email({"from": "Liam Grady <liam.grady@fernbank.ie>", "subject": "Hi",
                          "body": "Pricing?\n\nRegards,\nLiam Grady FCCA\nFinance Director"})
    assert parsed["full_name"] == "Liam Grady"


def test_parse_email_finds_the_address_in_the_body_when_from_has_none() -> None:
    parsed = parse_email({"from": "Web Visitor", "subject": "Contact",
                          "body": "Please reach me at lena@fjord-data.no about a demo."})
    assert parsed["email"] == "lena@fjord-data.no"


# ------------------------------------------------------------------------------ chat


def test_parse_chat_question_and_answer() -> None:
    chat = [
        {"role": "bot", "text": "Hi! What's your name?"},
        {"role": "visitor", "text": "Marco Rossi"},
        {"role": "bot", "text": "What's your email?"},
        {"role": "visitor", "text": "marco.rossi@ferrovia.it"},
        {"role": "bot", "text": "Which company do you work for?"},
        {"role": "visitor", "text": "Ferrovia Digitale S.p.A."},
        {"role": "bot", "text": "Where are you based?"},
        {"role": "visitor", "text": "Milan, Italy"},
        {"role": "bot", "text": "How many employees do you have?"},
        {"role": "visitor", "text": "about 1,200"},
        {"role": "bot", "text": "How can we help?"},
        {"role": "visitor", "text": "We need to migrate our ticketing platform by next quarter."},
    ]
    parsed = parse_chat(chat)
    assert parsed["full_name"] == "Marco Rossi"
    assert parsed["email"] == "marco.rossi@ferrovia.it"
    assert parsed["company"] == "Ferrovia Digitale S.p.A."  # "S.p.A." keeps its last dot
    assert parsed["country"] == "Milan, Italy"
    assert parsed["employees"] == "about 1,200"
    assert parsed["inquiry"].startswith("We need to migrate our ticketing platform by next")
    assert "Hi! What's your name?" not in parsed["text"]  # bot turns are not lead text
    assert "Marco Rossi" in parsed["text"]


def test_parse_chat_role_answer_drops_the_article() -> None:
    chat = [{"role": "bot", "text": "What's your role?"},
            {"role": "visitor", "text": "I'm the CTO"}]
    assert parse_chat(chat)["title"] == "CTO"


def test_parse_chat_company_size_question() -> None:
    chat = [{"role": "bot", "text": "What is your company size?"},
            {"role": "visitor", "text": "about 1,200"}]
    parsed = parse_chat(chat)
    assert parsed.get("employees") == "about 1,200"
    assert "company" not in parsed


def test_parse_chat_free_form_intro() -> None:
    chat = [
        {"role": "agent", "text": "Hello, how can I help?"},
        {"role": "user", "text": "Hi, I'm Sarah Connor, Head of Security at Cyberdyne Systems. "
                                 "We need a SIEM replacement asap. Reach me at "
                                 "sarah@cyberdyne.com or +1 415 555 0199."},
    ]
    parsed = parse_chat(chat)
    assert parsed["full_name"] == "Sarah Connor"
    assert parsed["title"] == "Head of Security"
    assert parsed["company"] == "Cyberdyne Systems"
    assert parsed["email"] == "sarah@cyberdyne.com"
    assert parsed["phone"] == "+1 415 555 0199"
    assert "SIEM replacement" in parsed["inquiry"]


def test_parse_chat_qa_name_beats_self_intro_and_skips_junk_turns() -> None:
    chat: list[Any] = [
        "not a turn",
        {"role": "bot", "text": "What is your name?"},
        {"role": "visitor", "text": "Lena Berg"},
        {"role": "visitor", "text": "This is Someone Else speaking for her"},
        {"role": "visitor", "text": ""},
    ]
    parsed = parse_chat(chat)
    assert parsed["full_name"] == "Lena Berg"


# --------------------------------------------------------------------------- parse_item


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("just text", "item must be a JSON object, got str"),
        ([1, 2], "item must be a JSON object, got list"),
        ({"source": "fax", "payload": {"a": 1}}, "unknown channel 'fax'"),
        ({"payload": {"a": 1}}, "unknown channel ''"),
        ({"source": "web_form"}, "empty payload"),
        ({"source": "web_form", "payload": ""}, "empty payload"),
        ({"source": "web_form", "payload": {}}, "empty payload"),
        ({"source": "chat", "payload": []}, "empty payload"),
        ({"source": "email", "payload": 42}, "email payload must be RFC 822 text"),
        ({"source": "chat", "payload": "hello"}, "chat payload must be a list"),
        ({"source": "web_form", "payload": "a=b"}, "web_form payload must be an object"),
        ({"source": "event", "payload": "a,b\n1,2\n3,4"}, "one header and one row"),
    ],
)
def test_parse_item_errors(item: object, message: str) -> None:
    with pytest.raises(IngestError, match=message.replace("(", r"\(")):
        parse_item(item)


def test_parse_item_dispatch() -> None:
    channel, parsed = parse_item({"channel": " WEB_FORM ", "payload": {"email": "a@b.com"}})
    assert channel == "web_form"
    assert parsed["email"] == "a@b.com"
    channel, parsed = parse_item({"source": "event", "payload": "Name,Email\nAl Ek,al@x.se"})
    assert channel == "event"
    assert parsed["full_name"] == "Al Ek"
    assert parsed["email"] == "al@x.se"
    channel, parsed = parse_item({"source": "email", "payload": SIGNED_REPLY})
    assert channel == "email"
    assert parsed["company"] == "Lumen Health Partners"


# ------------------------------------------------------------------------------- files


def test_read_items_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text(
        '{"id": "1", "source": "web_form", "payload": {"email": "a@b.com"}}\n'
        "not json\n"
        "\n"
        "[1, 2]\n"
        '{"id": "2", "source": "chat", "payload": [{"role": "user", "text": "hi"}]}\n',
        encoding="utf-8",
    )
    items = list(read_items(path))
    assert [i["id"] for i in items] == ["1", "leads.jsonl:2", "leads.jsonl:4", "2"]
    assert "_error" not in items[0]
    assert items[1]["_error"].startswith("line 2 is not JSON")
    assert items[1]["payload"] == "not json"
    assert items[2]["_error"] == "item is not a JSON object"
    assert items[3]["source"] == "chat"


def test_read_items_csv_rows_are_event_items(tmp_path: Path) -> None:
    path = tmp_path / "summit.csv"
    path.write_text("First Name,Last Name,Email,Company\nAna,Lima,ana@x.com.br,X\n"
                    "Bo,Ek,bo@y.se,Y\n", encoding="utf-8")
    items = list(read_items(path))
    assert [i["id"] for i in items] == ["summit-1", "summit-2"]
    assert all(i["source"] == "event" for i in items)
    assert items[1]["payload"] == {"First Name": "Bo", "Last Name": "Ek", "Email": "bo@y.se",
                                   "Company": "Y"}
    assert parse_item(items[0])[1]["email"] == "ana@x.com.br"


def test_read_items_json_array(tmp_path: Path) -> None:
    path = tmp_path / "leads.json"
    path.write_text(json.dumps([{"id": 1}, {"id": 2}]), encoding="utf-8")
    assert list(read_items(path)) == [{"id": 1}, {"id": 2}]
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"id": 3}), encoding="utf-8")
    assert list(read_items(single)) == [{"id": 3}]


def test_read_items_invalid_json_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{bad", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="not valid JSON"):
        list(read_items(path))


def test_read_items_eml(tmp_path: Path) -> None:
    path = tmp_path / "inquiry.eml"
    path.write_text(SIGNED_REPLY, encoding="utf-8")
    items = list(read_items(path))
    assert items == [{"id": "inquiry.eml", "source": "email", "payload": SIGNED_REPLY}]
    assert parse_item(items[0])[1]["email"] == "priya.nair@lumenhealth.com"


def test_read_items_mbox(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(path))
    for n in range(3):
        message = EmailMessage()
        message["From"] = f"Person {n} <p{n}@acme{n}.com>"
        message["Subject"] = f"Question {n}"
        message.set_content(f"Do you integrate with Salesforce? ({n})\n")
        box.add(message)
    box.flush()
    box.close()
    items = list(read_items(path))
    assert [i["id"] for i in items] == ["inbox-1", "inbox-2", "inbox-3"]
    assert all(i["source"] == "email" for i in items)
    parsed = [parse_item(i)[1] for i in items]
    assert [p["email"] for p in parsed] == ["p0@acme0.com", "p1@acme1.com", "p2@acme2.com"]
    assert parsed[2]["inquiry"] == "Question 2\nDo you integrate with Salesforce? (2)"


def test_read_items_binary_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "photo.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UnreadableFile, match="binary file"):
        list(read_items(path))


def test_read_items_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="missing.jsonl"):
        list(read_items(tmp_path / "missing.jsonl"))


def test_read_items_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        list(read_items(tmp_path))


# -------------------------------------------------------------------------- fingerprint


def test_item_fingerprint_is_id_based() -> None:
    a = {"id": "F-1", "source": "web_form", "payload": {"email": "a@b.com"}}
    edited = {"id": "F-1", "source": "web_form", "payload": {"email": "other@b.com"}}
    other_channel = {"id": "F-1", "source": "email", "payload": {"email": "a@b.com"}}
    assert item_fingerprint(a) == item_fingerprint(edited)  # same source + id = same item
    assert item_fingerprint(a) != item_fingerprint(other_channel)
    assert item_fingerprint({"id": 7, "source": "x"}) == item_fingerprint(
        {"id": "7", "source": "x"})


def test_item_fingerprint_without_id_hashes_content_stably() -> None:
    a = {"source": "web_form", "payload": {"a": 1, "b": 2}}
    reordered = {"payload": {"b": 2, "a": 1}, "source": "web_form"}
    changed = {"source": "web_form", "payload": {"a": 1, "b": 3}}
    assert item_fingerprint(a) == item_fingerprint(reordered)
    assert item_fingerprint(a) != item_fingerprint(changed)
    # an empty id is no id: the content decides
    assert item_fingerprint({**a, "id": ""}) != item_fingerprint({**changed, "id": ""})
    assert item_fingerprint(a) == "dd53b6b58a7b7b3d"  # stable across processes and runs
    assert len(item_fingerprint("x")) == 16
    assert item_fingerprint(None) != item_fingerprint("x")
