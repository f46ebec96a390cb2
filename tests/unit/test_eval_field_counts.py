"""evals.metrics.field_counts: a field is right when it names what the label names; a company
is the same company with or without its legal form, and a different one is wrong."""

from __future__ import annotations

import pytest

from leadflow.evals.metrics import field_counts


@pytest.mark.parametrize(("got", "label"), [
    ("São Bento Logística Ltda.", "São Bento Logística"),
    ("Kōwhai Data", "Kōwhai Data Ltd"),
    ("Wiślany Growth Partners sp. z o.o.", "Wiślany Growth Partners"),
    ("ACME GmbH", "Acme GmbH"),
])
def test_a_company_with_or_without_its_legal_form_is_right(got: str, label: str) -> None:
    counts = field_counts({"company": {"name": got}}, {"fields": {"company.name": label}})
    assert counts["company.name"] == {"tp": 1}


@pytest.mark.parametrize(("got", "label"), [
    ("São Bento Transportes Ltda.", "São Bento Logística"),
    ("commercial chez MediDistri Maroc", "MediDistri Maroc"),
    ("GmbH", "Acme GmbH"),
])
def test_another_name_is_wrong(got: str, label: str) -> None:
    counts = field_counts({"company": {"name": got}}, {"fields": {"company.name": label}})
    assert counts["company.name"] == {"fn": 1, "fp": 1}


def test_a_missing_company_is_a_miss() -> None:
    counts = field_counts({"company": {}}, {"fields": {"company.name": "Acme"}})
    assert counts["company.name"] == {"fn": 1}
