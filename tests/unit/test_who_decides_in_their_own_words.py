"""The writer's own words about their part in the decision, in several languages: deciding or
signing together with another executive makes them a primary decision maker, chairing or
leading the evaluation or presenting the recommendation gives significant influence; and a
chief executive's title that holds a lower rank's word ("대표이사", "Administrateur délégué")
is c-level (issue 14, seventh blind round). Written for these tests."""

from __future__ import annotations

import pytest

from leadflow.tools.standardize import seniority_of, standardize_title
from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("message", [
    "As head of sales I will decide together with our CEO, Ms Tan, before Christmas.",
    "Tengo facultad de firma hasta 2 millones de pesos para este proyecto.",
    "Eu assino em conjunto com o diretor financeiro.",
    "I will sign the contract myself once legal has seen it.",
])
def test_deciding_or_signing_with_another_executive(message: str) -> None:
    lead = make_lead(message, title="Head of Sales")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


@pytest.mark.parametrize("message", [
    "I will chair the evaluation panel; the council's cabinet makes the award.",
    "Yo lidero la evaluación y el gerente general firma.",
    "Eu conduzo o projeto; a diretoria aprova em janeiro.",
    "The owners decide, but they listen to me on anything to do with sales tools.",
])
def test_leading_the_evaluation_is_significant_influence(message: str) -> None:
    lead = make_lead(message, title="Sales Operations Manager")
    assert scored(lead)["authority"]["band"] == "significant_influence"


@pytest.mark.parametrize(("title", "seniority"), [
    ("대표이사", "c_level"), ("Administratrice déléguée", "c_level"),
    ("Gedelegeerd bestuurder", "c_level"), ("이사", "vp"),
    ("Administrateur réseau", "individual_contributor"),
])
def test_a_chief_executive_whose_title_holds_a_lower_rank(title: str, seniority: str) -> None:
    assert seniority_of(standardize_title(title)) == seniority
