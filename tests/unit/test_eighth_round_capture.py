"""Capture shapes the eighth blind round brought: a scanner's CSV export pasted into one
field, a reply written below the quote it answers, a notification from an address nobody
reads. Each test uses its own sentences, not the round's."""

from __future__ import annotations

from leadflow.tools.ingest import parse_email, parse_item


def test_a_csv_export_pasted_into_one_field_is_read_as_its_columns() -> None:
    row = ("Lead Ref;Given name;Family name;Organisation;Role;Mail;Tel\n"
           "X-11;Ines;Haberl;Haberl Logistik GmbH;Geschäftsführerin;ines@haberl-log.at;"
           "+43 660 1234567")
    parsed = parse_item({"source": "event", "payload": {"scan": row, "Booth": "Hall 4"}})[1]
    assert parsed["email"] == "ines@haberl-log.at"
    assert parsed["title"] == "Geschäftsführerin"
    assert parsed["company"] == "Haberl Logistik GmbH"
    assert parsed["phone"] == "+43 660 1234567"


def test_a_comment_with_commas_and_a_line_break_stays_a_comment() -> None:
    note = "Met at the stand, liked the demo,\nwants pricing, call after 3"
    parsed = parse_item({"source": "web_form", "payload": {
        "email": "tomas@kovar-print.cz", "comments": note}})[1]
    assert parsed["email"] == "tomas@kovar-print.cz"
    assert "wants pricing" in parsed["inquiry"]


def test_a_reply_written_below_the_quote_is_the_writers_text() -> None:
    raw = ("From: Nadia Ferhat <n.ferhat@ecole-atlas.fr>\nTo: julie@leadflow.example\n"
           "Subject: RE: votre démonstration\n\n"
           "Le 02/12/2026 à 10:05, Julie Martin a écrit :\n"
           "> Bonjour, seriez-vous disponible pour une démonstration ?\n>\n> Julie\n\n"
           "Bonjour Julie,\n\nOui, notre budget est voté et je choisis le prestataire.\n\n"
           "Nadia Ferhat\nDirectrice des admissions\nÉcole Atlas\n")
    parsed = parse_email(raw)
    assert "notre budget est voté" in parsed["inquiry"]
    assert parsed["title"] == "Directrice des admissions"
    assert "seriez-vous disponible" not in parsed["text"]


def test_a_quote_that_runs_to_the_end_is_still_history() -> None:
    raw = ("From: Ben Ortiz <ben@ortiz-tools.com>\nSubject: Re: pricing\n\n"
           "Sounds good, send the quote.\n\n"
           "On Tue, 1 Dec 2026 at 09:00, Sam <sam@leadflow.example> wrote:\n"
           "> Here is our price list.\n> Sam\n")
    parsed = parse_email(raw)
    assert parsed["inquiry"].endswith("Sounds good, send the quote.")
    assert "price list" not in parsed["text"]


def test_a_notification_from_a_no_reply_address_is_nobodys_contact() -> None:
    parsed = parse_email({
        "from": "Listings Hub <no-reply@listings-hub.example>",
        "subject": "New request for your listing",
        "body": "Name: Ola Brenner\nCompany: Brenner Fitness\n"
                "Upgrade to see this buyer's email address and phone number."})
    assert "email" not in parsed
    assert parsed.get("full_name") != "Listings Hub"


def test_a_no_reply_notification_names_the_person_in_reply_to_or_the_body() -> None:
    replied = parse_email("From: Forms <noreply@forms.example>\n"
                          "Reply-To: Ola Brenner <ola@brenner-fit.example>\n"
                          "Subject: New submission\n\nMessage: pricing please\n")
    assert replied["email"] == "ola@brenner-fit.example"
    in_body = parse_email({"from": "do-not-reply@forms.example", "subject": "Submission",
                           "body": "Email: ola@brenner-fit.example\nMessage: pricing"})
    assert in_body["email"] == "ola@brenner-fit.example"


def test_a_question_about_the_session_is_the_persons_answer_not_the_event() -> None:
    parsed = parse_item({"source": "event", "payload": {
        "Email": "ana@brisa-seguros.pt", "Event Name": "RevOps Breakfast Porto – 2 Dec 2026",
        "What do you hope to learn at this session?":
            "Mostly curious how other brokers route their web leads."}})[1]
    assert parsed["campaign"] == "RevOps Breakfast Porto – 2 Dec 2026"
    assert parsed["inquiry"] == "Mostly curious how other brokers route their web leads."
