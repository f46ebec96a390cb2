"""Mail that one of us sends on (issue 14): the lead is the person inside, and our own
addresses, website and relay are never a lead's contact or company."""

from __future__ import annotations

from leadflow.agents.capture import extract_lead

FORWARD = """From: Sam Ortiz <sam.ortiz@leadflow.example>
To: sales@leadflow.example
Subject: {subject}
Content-Type: text/plain; charset="utf-8"

Can someone take this one? Met her at the expo.

{marker}
{from_word}: {sender}
{date_word}: Tue, 17 Nov 2026 10:02
Subject: Pricing for our analytics rollout
To: Sam Ortiz <sam.ortiz@leadflow.example>

Hello Sam,

we are about 260 people and need one view of our sales data before the summer.

Best regards,
Nora Lindqvist
Head of Analytics
Fjordline Shipping AS
+47 22 55 01 23
"""


def forwarded(marker: str, from_word: str, date_word: str, sender: str) -> dict[str, object]:
    return {"source": "email", "received_at": "2026-11-18T09:00:00Z",
            "payload": FORWARD.format(subject="Fwd: analytics", marker=marker,
                                      from_word=from_word, date_word=date_word, sender=sender)}


def test_a_colleagues_forward_is_the_forwarded_persons_lead() -> None:
    record = extract_lead(forwarded("---------- Forwarded message ---------", "From", "Date",
                                    "Nora Lindqvist <nora.lindqvist@fjordline.no>"))
    assert record["contact"]["email"] == "nora.lindqvist@fjordline.no"
    assert (record["contact"]["first_name"], record["contact"]["last_name"]) == ("Nora",
                                                                                  "Lindqvist")
    assert record["company"]["domain"] == "fjordline.no"
    assert record["company"]["segment"] == "mid_market"  # "about 260 people"
    assert "leadflow.example" not in str(record["contact"])


def test_a_forward_in_another_language_with_a_last_name_first_sender() -> None:
    record = extract_lead(forwarded("-------- Weitergeleitete Nachricht --------", "Von",
                                    "Datum", "Lindqvist, Nora <nora.lindqvist@fjordline.no>"))
    assert record["contact"]["email"] == "nora.lindqvist@fjordline.no"
    assert record["contact"]["last_name"] == "Lindqvist"


def test_our_own_address_website_and_relay_are_never_the_lead() -> None:
    record = extract_lead({"source": "web_form", "received_at": "2026-11-18T09:00:00Z",
                           "payload": {"Email": "info@leadflow.example",
                                       "Source Url": "https://leadflow.example/contact",
                                       "Message": "test"}})
    assert record["contact"]["email"] is None
    assert record["company"]["domain"] is None
    assert not record["usable_contact"]
    assert "own_address_dropped" in record["flags"]


def test_a_form_posted_from_our_website_keeps_the_leads_own_domain() -> None:
    record = extract_lead({"source": "web_form", "received_at": "2026-11-18T09:00:00Z",
                           "payload": {"Email": "kim@harbourtools.co.nz",
                                       "Source Url": "https://www.leadflow.example/demo",
                                       "Phone": "09 379 0000"}})
    assert record["company"]["domain"] == "harbourtools.co.nz"
    assert record["contact"]["phone"] == "+6493790000"  # country from the lead's own ccTLD
