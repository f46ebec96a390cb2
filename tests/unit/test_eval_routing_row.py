"""The eval's routing check judges the routing a lead's tier calls for: a lead the labels
allow to stay unrouted (cold is as right as warm) is not counted as a routing miss."""

from __future__ import annotations

from typing import Any

from leadflow.evals.runner import score_row

ROUTING = {"region": "EMEA", "segment": "mid_market"}


def _row(tiers: list[str], tier: str, assignment: dict[str, Any] | None) -> Any:
    example = {"id": "X-1", "item": {"source": "email", "payload": "hello"},
               "labels": {"tier": tiers, "routing": ROUTING, "status": ["nurture"]}}
    outcome = {"lead_id": "LEAD-1", "status": "nurture", "bant": {"tier": tier},
               "assignment": assignment, "flags": [], "decisions": []}
    return score_row(example, outcome, 0.0, "blind_dev")["routing_ok"]


def test_a_lead_allowed_to_stay_unrouted_is_not_judged_on_routing() -> None:
    assert _row(["warm", "cold"], "cold", None) is None


def test_a_routed_lead_or_a_wrong_tier_is_judged() -> None:
    assert _row(["warm", "cold"], "warm", dict(ROUTING, rep_id="r")) is True
    assert _row(["warm", "cold"], "warm", {"region": "EMEA", "segment": "smb"}) is False
    assert _row(["warm"], "cold", None) is False  # should have been routed
