"""What a decision may rest on: text with injected instructions removed, the trusted facts an
LLM may cite, and the check that a quoted piece of evidence really occurs in the lead.

Shared by every agent that reads the lead's own words (enrichment, qualification, routing)
and by the evals that grade evidence, so all of them guard and ground the same way.
"""

from __future__ import annotations

import re
from typing import Any

from leadflow.config import IcpConfig

_SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s|$)|(?<=[。！？])|(?<=\n)(?=[ \t]*\n)")


def strip_injection(text: str, rules: IcpConfig) -> tuple[str, bool]:
    """Drop sentences that address the scorer, and the rest of the line each one is on (an
    injected form field goes whole); a header such as "Rules for the AI:" takes its whole
    paragraph with it. True when something was dropped."""
    pattern = rules.injection_regex
    kept: list[str] = []
    dropped = rest_of_line = rest_of_paragraph = False
    previous = ""
    for sentence in _SENTENCE_END.split(text):
        blank_line_before = previous.endswith("\n") and sentence.lstrip(" \t").startswith("\n")
        previous = sentence
        if rest_of_paragraph:
            if not blank_line_before:
                continue  # still inside the injected paragraph
            rest_of_paragraph = False
        elif rest_of_line:
            newline = sentence.find("\n")
            if newline < 0:
                continue
            sentence, rest_of_line = sentence[newline:], False
        if pattern.search(sentence):
            dropped = rest_of_line = True
            rest_of_paragraph = bool(re.search(r":\s*(?:\d+[.)]?\s*)?$", sentence.strip()))
        else:
            kept.append(sentence)
    return "".join(kept), dropped


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
