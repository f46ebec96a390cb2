"""People who write to sales without buying, as the seventh blind round wrote them: a creator
asking for a free account and an affiliate deal, a student in Arabic or in Hinglish, a job
seeker asking about openings, a list vendor offering a free sample, an agency presenting its
services in Portuguese — and an existing customer whose reference number has several parts
or who writes in German that leads "bleiben hängen". Written for these tests."""

from __future__ import annotations

import pytest

from leadflow.agents.support_case import support_case
from leadflow.config import icp
from tests.unit.test_qualification import make_lead, scored

AUTHORITY = icp().bant["authority"]


@pytest.mark.parametrize("text", [
    "We run a tech review channel and would like a sponsored review video; do you have an "
    "affiliate programme? We're not buying anything ourselves.",
    "أنا طالبة ماجستير وأكتب رسالة ماجستير عن إدارة العملاء المحتملين.",
    "Main final yr student hu, project ke liye case study chahiye.",
    "Do you have any openings for SDRs in Dublin next year?",
    "I wanted to offer a free sample of our verified list of 20,000 IT buyers.",
    "Gostaríamos de apresentar os nossos serviços de geração de leads à vossa equipa.",
])
def test_writers_who_are_not_buying(text: str) -> None:
    bant = scored(make_lead(text, title=None))
    assert bant["tier"] == "unqualified" and bant["need"]["band"] == "unclear"


@pytest.mark.parametrize("text", [
    "Seit Montag bleiben alle neuen Leads im Eingang hängen. Wir sind Kunde seit 2023.",
    "Our sync has stopped since this morning, the account is under Harlow Dental.",
    "Kundennummer AB-DE-4410: die Zuweisung funktioniert nicht.",
])
def test_an_existing_customer_reporting_a_problem(text: str) -> None:
    assert support_case(text, AUTHORITY) is not None


def test_new_store_openings_are_no_job_search() -> None:
    bant = scored(make_lead("We plan 12 new store openings next year and need lead routing "
                            "for franchise enquiries; budget approved at $60k."))
    assert bant["tier"] != "unqualified"
