"""A reply quotes the thread under an attribution line ("On …, X wrote:", "Am … schrieb
X:"): that history — always our own outreach, and any earlier message of a reply — is not
the lead's evidence; a colleague's words a writer quotes in a new mail are. Mails here are
this file's own."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest.mail import parse_email, split_embedded

REPLY = """From: Priya Natarajan <priya@harbourfreight-logistics.com>
To: Tom Reyes <tom.reyes@leadflow.example>
Subject: {subject}
Content-Type: text/plain; charset="utf-8"

Hi Tom,

happy to talk in January, nothing is decided yet.

Priya
Operations Director, Harbour Freight Logistics

{attribution}
> Hi Priya,
>
> could we get 20 minutes this week? Budget approved teams move fast!
>
> Tom
"""


@pytest.mark.parametrize("attribution", [
    "On Tue, Nov 17, 2026 at 10:02 AM Tom Reyes <tom.reyes@leadflow.example> wrote:",
    "On Tue, Nov 17, 2026 at 10:02 AM Tom Reyes <\ntom.reyes@leadflow.example> wrote:",
    "Am Di., 17. Nov. 2026 um 10:02 Uhr schrieb Tom Reyes <tom.reyes@leadflow.example>:",
    "Le mar. 17 nov. 2026 à 10:02, Tom Reyes <tom.reyes@leadflow.example> a écrit :",
])
def test_our_quoted_outreach_is_not_the_leads_text(attribution: str) -> None:
    parsed = parse_email(REPLY.format(subject="Re: intro", attribution=attribution))
    assert "this week" not in parsed["text"]
    assert "Budget approved" not in parsed["inquiry"]
    assert "happy to talk in January" in parsed["text"]
    assert parsed.get("title", "").startswith("Operations Director")


def test_a_line_that_merely_ends_with_wrote_opens_no_quoted_message() -> None:
    body = "Hi Tom,\n\nas our CFO wrote:\n> the EUR 80k is approved for next year\n\nPriya\n"
    own, embedded = split_embedded(body, "Re: intro")
    assert own == body and embedded == []  # no date, no address: a sentence, not a client's line


def test_a_quote_in_a_new_mail_from_a_colleague_is_kept_as_evidence() -> None:
    body = ("Please see below.\n\nOn 12 Nov 2026, at 08:10, Lena Vogt <lena.vogt@alpenwerk.at> "
            "wrote:\n> The board released EUR 60k for the reporting project.\n")
    own, embedded = split_embedded(body, "Reporting project")
    assert own.strip() == "Please see below."
    assert embedded == [("", "The board released EUR 60k for the reporting project.")]


def test_a_confidentiality_footer_is_not_the_leads_text() -> None:
    mail = """From: Jonas Berg <jonas.berg@nordvik-maskin.se>
To: sales@leadflow.example
Subject: Offert
Content-Type: text/plain; charset="utf-8"

Hej, vi vill gärna ha en offert. Beslut i mars.

Med vänliga hälsningar
Jonas Berg
Inköpschef, Nordvik Maskin AB

Detta e-postmeddelande är konfidentiellt och endast avsett för adressaten. Om du har fått det
av misstag, meddela avsändaren omedelbart och radera meddelandet.
"""
    parsed = parse_email(mail)
    assert "omedelbart" not in parsed["text"]
    assert "Beslut i mars" in parsed["text"]
    assert parsed.get("title", "").startswith("Inköpschef")
