"""Which words of a full name are the family name where the culture's order is not 'given
name, then family name' (issue 14: capture on names from outside Western Europe)."""

from __future__ import annotations

import pytest

from leadflow.tools.names import split_name


@pytest.mark.parametrize(("full", "given", "family"), [
    # Vietnamese: the family name first, with or without its accents
    ("Nguyễn Thị Thu Hà", "Thị Thu Hà", "Nguyễn"),
    ("Tran Minh Khoa", "Minh Khoa", "Tran"),
    ("Phạm Ngọc", "Ngọc", "Phạm"),  # two words: letters only Vietnamese writes say it
    # Korean romanised with a hyphenated given name
    ("Kim Do-hyun", "Do-hyun", "Kim"),
    # Chinese names from Singapore, Malaysia, Hong Kong
    ("Tan Hui Min", "Hui Min", "Tan"),
    ("Aaron Tan Wei Ming", "Aaron", "Tan"),
    # two given names before the family name(s)
    ("Andrés Felipe Restrepo", "Andrés Felipe", "Restrepo"),
    ("Diana Marcela Rojas Beltrán", "Diana Marcela", "Rojas Beltrán"),
    ("Ana Maria da Silva", "Ana Maria", "da Silva"),
    # an Arabic family name keeps its article; the father's name is not the person's
    ("Khalid Saeed Al Mheiri", "Khalid", "Al Mheiri"),
    ("Turki Abdulaziz Al-Shehri", "Turki", "Al-Shehri"),
])
def test_the_family_name_in_its_cultures_order(full: str, given: str, family: str) -> None:
    assert split_name(full) == (given, family)


@pytest.mark.parametrize(("full", "given", "family"), [
    ("John Smith", "John", "Smith"),
    ("Rodrigo Esparza Villalobos", "Rodrigo", "Esparza Villalobos"),  # two surnames
    ("Anna Le Blanc", "Anna", "Le Blanc"),  # a particle is no given name
    ("Jean Van Damme", "Jean", "Van Damme"),
    ("Harold J. Vance", "Harold", "Vance"),
    ("Nguyen Lan", "Nguyen", "Lan"),  # two words without accents: either order is written
    ("Do-hyun Kim", "Do-hyun", "Kim"),  # already given name first
    ("Gabriel Henrique Tavares", "Gabriel", "Henrique Tavares"),  # a surname that is a name too
])
def test_western_order_stands_where_nothing_says_otherwise(full: str, given: str,
                                                          family: str) -> None:
    assert split_name(full) == (given, family)


@pytest.mark.parametrize(("full", "given", "family"), [
    ("Hi! Jasmine po", "Jasmine", None),   # a greeting, and Filipino courtesy's "po"
    ("Hola, María López", "María", "López"),
    ("Olá Fernanda Lopes", "Fernanda", "Lopes"),
    ("Ana Po", "Ana", "Po"),               # a family name Po stays
])
def test_what_a_chat_turn_wraps_a_name_in_is_no_part_of_it(full: str, given: str,
                                                           family: str | None) -> None:
    assert split_name(full) == (given, family)
