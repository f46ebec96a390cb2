"""What the lead forwarded, and what event staff noted, is the lead's evidence (issue 14):
the inquiry that qualification reads keeps it; the writer's own title and phone still come
from the writer's own words, and the history of a reply thread stays out."""

from __future__ import annotations

from leadflow.agents.capture import extract_lead
from leadflow.tools.ingest import parse_item


def mail(subject: str, body: str, sender: str = "Tove Berg <tove.berg@alderbrook.example>"
         ) -> dict[str, object]:
    return {"source": "email", "received_at": "2026-11-18T09:00:00Z",
            "payload": f"From: {sender}\nTo: sales@leadflow.example\nSubject: {subject}\n"
                       f"Content-Type: text/plain; charset=\"utf-8\"\n\n{body}"}


GMAIL_FORWARD = """Hi there,

Passing on the note below from our finance director. Can you send prices?

Thanks,
Tove Berg
Office Coordinator
Alderbrook Bakeries

---------- Forwarded message ---------
From: Jonas Holm <jonas.holm@alderbrook.example>
Date: Mon, 16 Nov 2026 at 09:12
Subject: ordering chaos
To: Tove Berg <tove.berg@alderbrook.example>

Tove,

I have reserved 30k for a wholesale ordering tool and I will sign it. We need it live by March.

Jonas Holm
Finance Director
+46 8 555 012 34
"""


def test_a_forwarded_note_is_in_the_inquiry_but_its_writers_title_and_phone_are_not_the_leads(
) -> None:
    record = extract_lead(mail("Fwd: ordering chaos", GMAIL_FORWARD))
    assert "reserved 30k" in record["inquiry"] and "I will sign it" in record["inquiry"]
    assert record["contact"]["email"] == "tove.berg@alderbrook.example"
    assert record["contact"]["title"] == "Office Coordinator"
    assert record["contact"]["phone"] is None  # Jonas's number is not Tove's


def test_an_outlook_forward_without_a_marker_line_is_kept() -> None:
    body = ("Hallo, bitte melden Sie sich bei mir dazu.\n\nGrüße\nKai\n\n"
            "Von: Petra Lind <petra.lind@alderbrook.example>\n"
            "Gesendet: Montag, 16. November 2026 10:00\nAn: Kai Roth\nBetreff: Angebot\n\n"
            "Wir brauchen bis Januar ein Angebot für 40 Nutzer.\n")
    parsed = parse_item(mail("WG: Angebot", body, "Kai Roth <kai.roth@alderbrook.example>"))[1]
    assert "bis Januar ein Angebot für 40 Nutzer" in parsed["inquiry"]
    assert "bitte melden Sie sich" in parsed["inquiry"]


def test_an_apple_mail_forward_is_kept_and_our_own_quoted_reply_is_dropped() -> None:
    body = ("See below, can we talk tomorrow?\n\nBegin forwarded message:\n\n"
            "From: Liam Ode <liam.ode@alderbrook.example>\nSubject: tool\n"
            "Date: 16 November 2026\n\nWe lose orders every week, fix it before Easter.\n\n"
            "-----Original Message-----\nFrom: Rep <rep@leadflow.example>\nSent: Monday\n\n"
            "Our offer: 20% off if you sign this month.\n")
    inquiry = parse_item(mail("Fwd: tool", body))[1]["inquiry"]
    assert "We lose orders every week" in inquiry
    assert "20% off" not in inquiry


def test_a_reply_threads_quoted_history_stays_out() -> None:
    body = ("Yes, Thursday works.\n\nTove\n\nFrom: Mia Falk <mia@printshop.example>\n"
            "Sent: Monday\nTo: Tove\nSubject: quote\n\nHere is our quote for the flyers.\n")
    assert "flyers" not in parse_item(mail("RE: quote", body))[1]["inquiry"]


def test_an_event_exports_staff_notes_are_the_inquiry_not_a_headcount() -> None:
    csv_row = ("First Name,Last Name,Email,Company,staff_notes,Kommentar\n"
               "Ines,Vogt,ines.vogt@kelterhof.example,Kelterhof,"
               "\"Runs ops for 4 sites, wants a pilot in January\",Rückruf erwünscht\n")
    record = extract_lead({"source": "event", "received_at": "2026-11-18T09:00:00Z",
                           "payload": csv_row})
    assert "wants a pilot in January" in record["inquiry"]
    assert "Rückruf erwünscht" in record["inquiry"]
    assert record["company"]["employees"] is None
