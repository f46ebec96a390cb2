"""Company names the ninth blind round wrote around: a signature logo's alt text, a role in
front of its employer, a sentence run on after the name. Each in its own sentences."""

from __future__ import annotations

import pytest

from leadflow.tools.prose import clean_company_name


@pytest.mark.parametrize(("written", "name"), [
    ("[Fjordlys Energi logo]", "Fjordlys Energi"),
    ("[Brisa Seguros logotipo]", "Brisa Seguros"),
    ("jefa de ventas de Textiles Montaña", "Textiles Montaña"),
    ("Head of Growth at Lumbre Labs", "Lumbre Labs"),
    ("Okuda Shoji. I am the office admin", "Okuda Shoji"),
    ("Bank of Valletta", "Bank of Valletta"),
    ("Universidad de Antioquia", "Universidad de Antioquia"),
    ("Secretaría de Salud de Cali", "Secretaría de Salud de Cali"),
])
def test_the_company_without_what_stands_around_it(written: str, name: str) -> None:
    assert clean_company_name(written) == name


def test_a_logo_without_a_name_is_no_company() -> None:
    assert clean_company_name("[logo]") is None
