"""Every decision explains itself (issue 14): `explain_lead` over what the CRM kept after a
real graph run, and the same through `leadflow explain` and GET /leads/{id}/explanation."""

from __future__ import annotations

import re
from typing import Any

from leadflow.explain import explain_lead, local_time
from leadflow.toolbox import Toolbox
from tests.conftest import RunItems, form_item


def sentences(found: Any, section: str) -> str:
    return " ".join(found.sections[section])


def test_a_routed_lead_says_why_this_tier_why_this_rep_and_what_is_due(
        run_items: RunItems, tools: Toolbox) -> None:
    [outcome] = run_items([form_item()])
    found = explain_lead(tools.crm, tools.reps, outcome["lead_id"])
    assert found is not None
    tier = sentences(found, "Why this tier")
    assert f"tier {outcome['bant']['tier']}" in tier
    for name in ("Budget", "Authority", "Need", "Timeline"):
        assert f"{name}: " in tier
    assert outcome["bant"]["budget"]["evidence"].rstrip(".") in tier  # the quote itself
    rep = sentences(found, "Why this rep or queue")
    person = tools.reps.person(outcome["assignment"]["rep_id"])
    assert person is not None and person.name in rep
    assert "excluded" in rep or "ranked lower" in rep or "not considered" in rep
    due = sentences(found, "What happens next")
    assert "America/New_York" in due  # the lead is in the US: its local time, not raw ISO
    assert not re.search(r"\d{4}-\d\d-\d\dT", due)  # "Tue 24 Nov 2026, 04:55", not ISO
    assert "Nothing" in sentences(found, "What a person changed")


def test_a_cold_lead_names_its_queue(run_items: RunItems, tools: Toolbox) -> None:
    [outcome] = run_items([form_item("F-2", **{
        "Job Title": "Analyst", "message": "Just curious about your product, maybe next year."})])
    found = explain_lead(tools.crm, tools.reps, outcome["lead_id"])
    assert found is not None
    assert outcome["status"] in ("nurture", "marketing")
    assert "queue" in sentences(found, "Why this rep or queue")
    assert "queue" in sentences(found, "What happens next")


def test_a_lead_that_wrote_again_says_so(run_items: RunItems, tools: Toolbox) -> None:
    first, _ = run_items([form_item("W-1"), form_item("W-2", message="Any news?")])
    found = explain_lead(tools.crm, tools.reps, first["lead_id"])
    assert found is not None
    assert "wrote 2 times" in sentences(found, "Why this tier")


def test_an_unknown_lead_has_no_explanation(tools: Toolbox) -> None:
    assert explain_lead(tools.crm, tools.reps, "LEAD-nope") is None


def test_local_time_falls_back_to_utc_without_a_country() -> None:
    assert local_time("2026-11-24T09:00:00Z", None) == "Tue 24 Nov 2026, 09:00 (UTC)"
    assert local_time("2026-11-24T09:00:00Z", "JP") == "Tue 24 Nov 2026, 18:00 (Asia/Tokyo)"
