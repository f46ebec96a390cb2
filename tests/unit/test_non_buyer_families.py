"""Non-buyers by family, not by the one sentence a dataset holds: automatic replies, job
seekers however they name the role, and the guard that a writer stating an approved budget
of their own is buying whatever pitch-like words also occur. Sentences are this file's own."""

from __future__ import annotations

import pytest

from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("text", [
    "Automatic reply: Spring webinar invitation. I am away until 4 January.",
    "Abwesenheitsnotiz: Ich bin bis zum 7. Dezember nicht im Büro.",
    "Réponse automatique : je suis absent du bureau jusqu'au lundi 30 novembre.",
    "Hi, I'm looking for an account executive role in your Dublin office, CV attached.",
    "Currently between roles and open to work in sales operations.",
])
def test_nobody_buying_scores_unqualified(text: str) -> None:
    bant = scored(make_lead(text), text)
    assert bant["need"]["band"] == "unclear"
    assert bant["tier"] == "unqualified"


def test_an_approved_budget_outweighs_a_pitch_like_phrase() -> None:
    text = ("We route leads for our agency network of 900 brokers. The $400k budget for the "
            "new platform is approved and we sign in January.")
    bant = scored(make_lead(text), text)
    assert bant["budget"]["band"] == "clear_budget"
    assert bant["tier"] in ("warm", "hot")


def test_looking_for_a_tool_is_not_a_job_search() -> None:
    text = "We are looking for a new routing tool for our 40-person inside sales team."
    assert scored(make_lead(text), text)["need"]["band"] != "unclear"
