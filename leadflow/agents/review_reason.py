"""Which qualified leads a person decides before routing (SPEC §7: hierarchical decisions;
icp.yaml `review`): a very large deal, or contradictory signals whose resolution would change
the tier."""

from __future__ import annotations

from itertools import product
from typing import Any

from leadflow.agents.money import money_amounts
from leadflow.config import IcpConfig

CRITERIA = ("budget", "authority", "need", "timeline")


def review_reason(bant: dict[str, Any], lead: dict[str, Any], text: str,
                  rules: IcpConfig) -> str | None:
    """Qualified leads a person should decide before routing (icp.yaml `review`)."""
    limits = rules.review
    if not limits:
        return None
    company = lead.get("company") or {}
    employees = company.get("employees") or 0
    ceiling = limits.get("big_deal_max_usd", float("inf"))
    biggest = max((a for a in money_amounts(text, rules, company.get("country")) if a <= ceiling),
                  default=0.0)
    if biggest >= limits.get("big_deal_usd", float("inf")) or employees >= limits.get(
            "big_deal_employees", float("inf")):
        return "big_deal"
    if (bant.get("conflicts") and bant["tier"] in limits.get("conflicting_tiers", ())
            and conflict_changes_tier(bant, rules)):
        return "conflicting_signals"
    return None


def conflict_changes_tier(bant: dict[str, Any], rules: IcpConfig) -> bool:
    """Would reading the contested criteria either way give another tier? Each contested
    criterion is scored at the middle of its strongest and of its weakest band; a person is
    asked only when those readings disagree on the tier (SPEC §7: edge cases, not noise)."""
    contested = sorted({c.split(":", 1)[0].strip() for c in bant.get("conflicts") or ()})
    if not contested or any(name not in CRITERIA for name in contested):
        return True  # a conflict we cannot re-score: a person looks
    rest = bant["total"] - sum(bant[name]["score"] for name in contested)
    readings = product(*[(rules.bant[name].bands[0], rules.bant[name].bands[-1])
                         for name in contested])
    tiers = {rules.tier_for(rest + sum((b.low + b.high) // 2 for b in bands))
             for bands in readings}
    return len(tiers) > 1
