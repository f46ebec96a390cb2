"""What a decision may rest on: text with injected instructions removed, the trusted facts an
LLM may cite, and the check that a quoted piece of evidence really occurs in the lead.

Shared by every agent that reads the lead's own words (enrichment, qualification, routing)
and by the evals that grade evidence, so all of them guard and ground the same way.
"""

from __future__ import annotations

import re
from typing import Any

from leadflow.agents.injection import find_injections, strip_spans
from leadflow.config import IcpConfig


def strip_injection(text: str, rules: IcpConfig) -> tuple[str, bool]:
    """The text without its injections (leadflow/agents/injection.py: each one with the rest of
    its paragraph, a fenced or tagged block whole), and True when something was dropped."""
    spans = find_injections(text, rules.injection)
    return strip_spans(text, spans), bool(spans)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip(" .,;:'\"“”‘’")


def is_grounded(evidence: str, source: str) -> bool:
    """Every quoted part of the evidence (split at '...' or ' / ') occurs in the source."""
    parts = [_normalise(p) for p in re.split(r"\.\.\.|…| / ", evidence or "")]
    parts = [p for p in parts if len(p) >= 3]
    normalised = _normalise(source)
    return bool(parts) and all(p in normalised for p in parts)


def enrichment_facts(lead: dict[str, Any]) -> str:
    """Trusted facts the LLM may cite as evidence (and that grounding accepts)."""
    contact, company = lead.get("contact") or {}, lead.get("company") or {}
    facts = [f"title: {contact.get('title') or 'unknown'}",
             f"seniority: {contact.get('seniority') or 'unknown'}",
             f"company: {company.get('name') or 'unknown'}",
             f"industry: {company.get('industry') or 'unknown'}",
             f"country: {company.get('country') or 'unknown'}"]
    if company.get("employees"):
        facts.append(f"employees: {company['employees']} ({company['employees']:,})")
    if company.get("revenue_usd"):
        facts.append(f"revenue_usd: {company['revenue_usd']} ({company['revenue_usd']:,})")
    for key in ("funding", "tech_stack", "recent_news"):
        if company.get(key):
            value = company[key]
            facts.append(f"{key}: {'; '.join(value) if isinstance(value, list) else value}")
    return "\n".join(facts)
