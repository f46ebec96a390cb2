"""Which number reaches the person (issue 14): a switchboard listed beside the writer's own
line is not their phone, a fax never is, and among the person's own numbers the first listed
wins; a Dutch name's particle in a form box of its own joins the last name."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest import parse_email, parse_fields
from leadflow.tools.ingest.phone_labels import Reach, best_number, labelled_numbers


def _mail(body: str, sender: str = "Karin Lindholm <karin@fjallstrom.se>") -> str:
    return (f"From: {sender}\nTo: sales@leadflow.example\nSubject: Leads\n\n{body}\n")


@pytest.mark.parametrize(("line", "expected"), [
    ("Switchboard 020 7946 0100 | Direct 020 7946 0371 | Mobile 07700 900731", "020 7946 0371"),
    ("Telefon 041 555 30 20 (Zentrale) / direkt 041 555 30 27", "041 555 30 27"),
    ("Fax: 0421 5555 12, Tel: 0421 5555 10", "0421 5555 10"),
    ("Centralino 02 5555 1200 · Cell. 347 555 0192", "347 555 0192"),
    # the person's own numbers in the order listed: the office line first
    ("Tel. +49 7121 94382-15 | Mobil +49 171 4482907", "+49 7121 94382-15"),
    ("Växel 08-555 120 00", "08-555 120 00"),  # only a switchboard: still a way in
])
def test_the_persons_own_number_wins(line: str, expected: str) -> None:
    best = best_number(labelled_numbers(line))
    assert best is not None and best.raw == expected


def test_a_fax_alone_is_no_phone_and_a_label_letter_needs_to_stand_alone() -> None:
    assert best_number(labelled_numbers("Fax +44 20 7946 0999")) is None
    # "F" as the whole label is a fax; an F inside a name is nothing
    assert labelled_numbers("F +49 711 4478-99")[0].reach is Reach.FAX
    assert labelled_numbers("Anna F +49 711 4478-34")[0].reach is Reach.OWN


def test_a_signature_lists_the_switchboard_first() -> None:
    parsed = parse_email(_mail(
        "Hi,\nplease send the security pack.\n\nThanks,\n\nOliver Pennington\n"
        "Senior Manager, Sales Systems\nVeridian Telecom plc\n"
        "Switchboard 020 7946 0100 | Direct 020 7946 0371",
        "Oliver Pennington <oliver.pennington@veridiantelecom.co.uk>"))
    assert parsed["phone"] == "020 7946 0371"


def test_a_number_given_in_the_body_beats_a_signature_switchboard() -> None:
    parsed = parse_email(_mail(
        "Hi,\n\nCan you call me today or tomorrow? +46 70 555 12 38\n\n/Karin\n\n"
        "Karin Lindholm\nHead of Sales\nFjällström Bygg AB\nVäxel 08-555 120 00"))
    assert parsed["phone"] == "+46705551238"


def test_a_body_number_does_not_replace_the_writers_own_signature_line() -> None:
    parsed = parse_email(_mail(
        "Hi,\n\nOur old vendor's hotline was +46 8 555 000 00, useless.\n\nBest,\n\n"
        "Karin Lindholm\nHead of Sales\nFjällström Bygg AB\nMobil 070-555 12 38"))
    assert parsed["phone"] == "070-555 12 38"


def test_a_switchboard_stays_when_the_body_gives_no_number() -> None:
    parsed = parse_email(_mail(
        "Hi,\n\nWe need lead routing by January, 230 staff.\n\nBest,\n\n"
        "Karin Lindholm\nHead of Sales\nFjällström Bygg AB\nVäxel 08-555 120 00"))
    assert parsed["phone"] == "08-555 120 00"


@pytest.mark.parametrize(("infix_key", "infix", "last", "expected"), [
    ("Tussenvoegsel", "van der", "Veen", "van der Veen"),
    ("tussenvoegsels", "van", "Dijk", "van Dijk"),
    ("Tussenvoegsel", "de", "de Vries", "de Vries"),  # written into the last name already
])
def test_a_dutch_particle_in_its_own_box_joins_the_last_name(
        infix_key: str, infix: str, last: str, expected: str) -> None:
    parsed = parse_fields({"Voornaam": "Pieter", infix_key: infix, "Achternaam": last,
                           "E-mailadres": "p.veen@hofstede.nl"})
    assert parsed["first_name"] == "Pieter"
    assert parsed["last_name"] == expected
    assert infix_key not in parsed.get("text", "")  # the particle is a name part, not text
