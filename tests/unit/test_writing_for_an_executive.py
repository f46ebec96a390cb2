"""An assistant who writes for an executive carries the executive's request: authority is
significant influence, not the assistant's own 'limited' (issue 14; four blind labellers
read it so). A consultant's or a manager's 'on behalf of' keeps their own weight."""

from __future__ import annotations

import pytest

from leadflow.agents.qualification import propose_rules
from leadflow.config import icp

RULES = icp()


def lead(title: str, seniority: str) -> dict[str, object]:
    return {"contact": {"title": title, "seniority": seniority},
            "company": {"name": "Fjordline Shipping", "employees": 900}}


@pytest.mark.parametrize("text", [
    "I'm writing on behalf of our Chief Operating Officer, who would like a 30-minute call.",
    "Im Auftrag unseres Geschäftsführers bitte ich um einen Präsentationstermin im Januar.",
    "Le escribo en nombre de nuestra directora general para agendar una reunión.",
    "På uppdrag av vår vd vill jag boka en genomgång av er plattform.",
])
def test_an_assistant_writing_for_an_executive(text: str) -> None:
    proposal = propose_rules(lead("Executive Assistant", "individual_contributor"), text, RULES)
    assert proposal.authority.band == "significant_influence", proposal.authority


@pytest.mark.parametrize("text", [
    "I am writing on behalf of a client, a regional grocery chain, that wants a shortlist.",
    "On behalf of the whole team, thanks for the webinar yesterday!",
])
def test_acting_for_a_client_or_a_team_is_not_it(text: str) -> None:
    proposal = propose_rules(lead("Analyst", "individual_contributor"), text, RULES)
    assert proposal.authority.band == "limited", proposal.authority


def test_a_manager_writing_for_the_ceo_keeps_a_managers_weight() -> None:
    text = "On behalf of our CEO I am collecting offers; she will decide in January."
    proposal = propose_rules(lead("Procurement Manager", "manager"), text, RULES)
    assert proposal.authority.band == "some_influence", proposal.authority
