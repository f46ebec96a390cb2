"""Which words of a written name are the family name (issue 14): a middle initial is in
neither part, a dotted professional abbreviation is no name, the address tells where a
second given name ends, and a signature that signs the whole name completes the From."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest import parse_email
from leadflow.tools.names import name_from_address, split_name


def test_a_middle_initial_and_a_dotted_abbreviation_are_not_the_family_name() -> None:
    assert split_name("Walter P. Quinn") == ("Walter", "Quinn")
    assert split_name("M.Sc. Inga Lund") == ("Inga", "Lund")


@pytest.mark.parametrize(("full", "email", "expected"), [
    ("Ana Sofía Bermúdez Ríos", "asbermudez@muni.example", ("Ana Sofía", "Bermúdez Ríos")),
    ("Ana Sofía Bermúdez Ríos", "anasofia.bermudez@muni.example",
     ("Ana Sofía", "Bermúdez Ríos")),
    ("Mei Ling Tan", "mltan@port.example", ("Mei Ling", "Tan")),
    # the address names the last surname only: where the family name starts is not said
    ("Paulo Ribeiro Costa", "paulo.costa@agro.example", ("Paulo", "Ribeiro Costa")),
    ("Omar Al Habsi", "o.alhabsi@grid.example", ("Omar", "Al Habsi")),
])
def test_the_address_tells_where_the_given_names_end(full: str, email: str,
                                                     expected: tuple[str, str]) -> None:
    assert name_from_address(*split_name(full), email) == expected


def test_the_signature_completes_a_shorter_from_name() -> None:
    parsed = parse_email("From: Tomás Echeverría <techeverria@vinos.example>\nSubject: hola\n\n"
                         "¿Me envían precios?\n\nSaludos,\nLic. Tomás Echeverría Vidal\n"
                         "Gerente de Compras\nVinos del Valle\n")
    assert parsed["full_name"] == "Lic. Tomás Echeverría Vidal"
    assert split_name(parsed["full_name"]) == ("Tomás", "Echeverría Vidal")


@pytest.mark.parametrize(("written", "first", "last"), [
    ("DUBOIS-MARCHAND Élise", "Élise", "Dubois-Marchand"),
    ("Élise DUBOIS", "Élise", "Dubois"),
    ("YAMAMOTO Kenji", "Kenji", "Yamamoto"),
    ("JP Morgan", "Jp", "Morgan"),  # two capitals are initials, not a family name
])
def test_a_family_name_in_capitals_wherever_it_stands(written: str, first: str,
                                                      last: str) -> None:
    assert split_name(written) == (first, last)


def test_the_address_confirms_a_family_name_written_first() -> None:
    # "Hofbauer-Steiner Klaus" at k.hofbauer-steiner@: the initial, then the family name
    assert name_from_address("Hofbauer-Steiner", "Klaus", "k.hofbauer-steiner@gemeinde.at") == (
        "Klaus", "Hofbauer-Steiner")
    # an address written family name first does not turn a name in the right order around
    assert name_from_address("Klaus", "Hofbauer", "hofbauer.klaus@gemeinde.at") == (
        "Klaus", "Hofbauer")
