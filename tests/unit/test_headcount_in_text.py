"""Company size stated in prose (issue 14): a number tied to a word for the company's people,
in the languages inbound mail arrives in; anything else stays unknown."""

from __future__ import annotations

import pytest

from leadflow.tools.prose import headcount_in_text


@pytest.mark.parametrize(("text", "expected"), [
    ("We're a company of roughly 75 employees in Leeds.", (75, None)),
    ("Our firm has 1,450 staff worldwide", (1450, None)),
    ("we employ about 12k people", (12000, None)),
    ("Wir beschäftigen rund 3.400 Mitarbeitende in Europa.", (3400, None)),
    ("Somos una empresa de 65 trabajadores", (65, None)),
    ("Nous sommes environ 2 500 collaborateurs", (2500, None)),
    ("Temos 180 funcionários no Brasil", (180, None)),
    ("Abbiamo circa 320 dipendenti", (320, None)),
    ("Wij hebben 95 medewerkers", (95, None)),
    ("Zatrudniamy około 1,1 tys. pracowników", (1100, None)),
    ("社員数は約1,500名です", (1500, None)),
    ("a headcount of 230", (230, None)),
    ("small 12-person studio", (12, None)),
    ("between 200-499 employees", (None, (200, 499))),
    ("5,000+ employees", (None, (5000, None))),
])
def test_stated_sizes_are_read(text: str, expected: tuple[object, object]) -> None:
    assert headcount_in_text(text) == expected


@pytest.mark.parametrize("text", [
    "We process 40,000 orders a day.",
    "We have 300 customers and 12 warehouses.",
    "Revenue is about €45M.",
    "Call me on 0171 555 0123.",
    "We moved to 25 new stores in 2025.",
    "",
])
def test_numbers_that_are_not_headcount_stay_unknown(text: str) -> None:
    assert headcount_in_text(text) == (None, None)
