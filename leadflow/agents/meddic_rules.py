"""MEDDIC by rules: the offline default, the fallback when the LLM fails, the eval baseline.

General signals only, never phrases fitted to single leads: the contact's seniority and
department from capture, enrichment's tech stack, numbers with a unit of value (%, money,
hours), and the pain, date, decision and non-buyer words of icp.yaml's `bant:` (one lexicon
for both frameworks), plus MEDDIC's own lists in `meddic:` (requirements, process steps,
budget holders, ownership and next-step words).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

from leadflow.agents.bant_proposal import CriterionProposal
from leadflow.agents.buyer_signals import non_buyer_said
from leadflow.agents.dates_in_text import dated_mentions, distant_year
from leadflow.agents.meddic import MeddicProposal
from leadflow.agents.money import MONEY
from leadflow.agents.sentences import unwrapped, without_addresses
from leadflow.clock import parse_datetime
from leadflow.config import Criterion, IcpConfig
from leadflow.config.meddic import MeddicRules
from leadflow.tools.standardize import contains_phrase

_MONEY = re.compile(MONEY, re.IGNORECASE)


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？\n]")


def _quote(text: str, match: re.Match[str]) -> str:
    """The sentence (or line) the match is in, as evidence ("$1.5M" does not end one)."""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())), default=0)
    end = _SENTENCE_END.search(text, match.end())
    return text[start:end.end() if end else len(text)].strip()[:240]


def _prop(band: str, strength: float, evidence: str) -> CriterionProposal:
    return CriterionProposal(band=band, strength=min(1.0, max(0.0, strength)),
                             evidence=evidence)


def _phrases(criterion: Criterion, key: str) -> tuple[str, ...]:
    return tuple(criterion.phrases.get(key, ()))


def _found(text: str, phrases: tuple[str, ...]) -> list[re.Match[str]]:
    """One match per distinct phrase present in the text, in the order they occur."""
    hits = [m for p in phrases if (m := contains_phrase(text, (p,)))]
    return sorted(hits, key=lambda m: m.start())


@cache
def _unit_regex(units: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(u) + (r"(?!\w)" if u[-1].isalnum() else "")
                     for u in sorted(units, key=len, reverse=True))
    return re.compile(rf"(?<![\w.,])\d[\d.,]*\s?(?:{words})", re.IGNORECASE)


def _title_fact(contact: dict[str, Any]) -> str:
    seniority = (contact.get("seniority") or "unknown").replace("_", " ")
    return f"title: {contact['title']} ({seniority})" if contact.get("title") else "no title given"


def _metric(text: str, metrics: Criterion) -> tuple[str, bool] | None:
    """(quote, names a cost or gain) of the first number with a unit of value. Money in a
    sentence about the budget itself is the budget, not a metric."""
    budget = tuple(metrics.settings.get("budget_words", ()))
    value = tuple(metrics.settings.get("value_words", ()))
    units = tuple(metrics.settings.get("value_units", ()))
    found = sorted([*(_unit_regex(units).finditer(text) if units else ()),
                    *_MONEY.finditer(text)], key=lambda m: m.start())
    for match in found:
        quote = _quote(text, match)
        valued = contains_phrase(quote, value) is not None
        if match.re is _MONEY and contains_phrase(quote, budget) and not valued:
            continue
        return quote, valued
    return None


def _pain(text: str, rules: IcpConfig) -> tuple[str, re.Match[str]] | None:
    need = rules.bant["need"]
    for band, key in (("critical", "critical_phrases"), ("clear", "clear_phrases"),
                      ("mild", "nice_phrases")):
        if match := contains_phrase(text, _phrases(need, key)):
            return band, match
    return None


def propose_meddic(lead: dict[str, Any], text: str, rules: MeddicRules, icp_rules: IcpConfig,
                   reference: datetime | None = None) -> MeddicProposal:
    """MEDDIC by rules. `reference` is 'now' for leads whose arrival time is unknown."""
    reference = reference or datetime.now(UTC)
    contact, company = lead.get("contact") or {}, lead.get("company") or {}
    conflicts: list[str] = []
    text = unwrapped(without_addresses(text), (lead.get("source") or {}).get("channel"))
    non_buyer = non_buyer_said(text, icp_rules.bant["authority"])
    metric = _metric(text, rules["metrics"])
    pain = _pain(text, icp_rules)
    received = parse_datetime((lead.get("source") or {}).get("received_at")) or reference
    return MeddicProposal(
        metrics=_metrics(text, rules["metrics"], metric, pain),
        economic_buyer=_economic_buyer(contact, text, rules["economic_buyer"], non_buyer,
                                       conflicts),
        decision_criteria=_decision_criteria(text, company, rules["decision_criteria"],
                                             icp_rules),
        decision_process=_decision_process(text, rules["decision_process"], icp_rules,
                                           received, conflicts),
        identify_pain=_identify_pain(text, pain, metric),
        champion=_champion(contact, text, rules["champion"], non_buyer),
        conflicts=conflicts)


def _metrics(text: str, metrics: Criterion, metric: tuple[str, bool] | None,
             pain: tuple[str, re.Match[str]] | None) -> CriterionProposal:
    if metric:
        return _prop("quantified", 0.8 if metric[1] else 0.5, metric[0])
    if goal := contains_phrase(text, _phrases(metrics, "goal_phrases")):
        return _prop("stated_goal", 0.5, _quote(text, goal))
    if pain and pain[0] in ("critical", "clear"):
        return _prop("implied", 0.7 if pain[0] == "critical" else 0.3, _quote(text, pain[1]))
    return _prop("none", 0.5 if text.strip() else 0.0, "no metric stated")


def _economic_buyer(contact: dict[str, Any], text: str, buyer: Criterion,
                    non_buyer: re.Match[str] | None, conflicts: list[str]) -> CriterionProposal:
    seniority = contact.get("seniority") or "unknown"
    names = [b.name for b in buyer.bands]
    band, strength = buyer.settings["by_seniority"].get(seniority, [names[-1], 0.2])
    evidence = _title_fact(contact)
    if contact.get("department") in buyer.settings.get("budget_departments", ()) \
            and seniority in ("director", "manager"):  # a finance or executive head
        band, strength = names[max(0, names.index(band) - 1)], 0.5
    if non_buyer:
        if seniority in ("c_level", "vp", "director"):
            conflicts.append(f"economic_buyer: senior title but '{non_buyer.group(0)}' in the "
                             "text")
            return _prop(names[-1], 0.3, f"{evidence}; {_quote(text, non_buyer)}")
        return _prop(names[-1], 0.0, _quote(text, non_buyer))
    if own := contains_phrase(text, _phrases(buyer, "own_budget_phrases")):
        strength = min(1.0, strength + 0.4) if band == names[0] else 0.3
        return _prop(names[0], strength, f"{evidence}; {_quote(text, own)}")
    signal = contains_phrase(text, _phrases(buyer, "buyer_role_phrases")) or _approved(text, buyer)
    if signal and names.index(band) > names.index("engaged"):
        return _prop("engaged", 0.5, _quote(text, signal))
    return _prop(band, strength, evidence)


def _approved(text: str, buyer: Criterion) -> re.Match[str] | None:
    """An approval word in a sentence that names money or a budget: the money is there."""
    nouns = _phrases(buyer, "budget_nouns")
    for match in _found(text, tuple(buyer.settings.get("approval_words", ()))):
        quote = _quote(text, match)
        if _MONEY.search(quote) or contains_phrase(quote, nouns):
            return match
    return None


def _decision_criteria(text: str, company: dict[str, Any], criteria: Criterion,
                       icp_rules: IcpConfig) -> CriterionProposal:
    wanted = _found(text, _phrases(criteria, "requirement_phrases"))
    wanted += _found(text, icp_rules.target_tech)  # "must sync with Salesforce"
    quotes = list(dict.fromkeys(_quote(text, m) for m in sorted(wanted, key=lambda m: m.start())))
    distinct = len({m.group(0).lower() for m in wanted})
    compare = contains_phrase(text, _phrases(criteria, "comparison_phrases"))
    if distinct >= int(criteria.settings.get("explicit_min", 2)):
        return _prop("explicit", 0.2 * (distinct - 1), " / ".join(quotes[:2]))
    if wanted:
        return _prop("some", 0.8 if compare else 0.5, quotes[0])
    if compare:
        return _prop("some", 0.5, _quote(text, compare))
    stack = company.get("tech_stack") or []
    targets = {t.lower() for t in icp_rules.target_tech}
    if isinstance(stack, list) and any(str(t).lower() in targets for t in stack):
        return _prop("implied", 0.5, f"tech_stack: {'; '.join(map(str, stack))}")
    return _prop("unknown", 0.5 if text.strip() else 0.0, "no decision criteria stated")


def _decision_process(text: str, process: Criterion, icp_rules: IcpConfig,
                      received: datetime, conflicts: list[str]) -> CriterionProposal:
    timeline = icp_rules.bant["timeline"]
    steps = _found(text, _phrases(process, "step_phrases"))
    distinct = len({m.group(0).lower() for m in steps})
    dated = dated_mentions(text, received.date(), timeline) if text else []
    # "this quarter", "next quarter", "H1": bant.timeline's phrases, all within six months
    dated += [(0.0, _quote(text, m)) for key in ("now_phrases", "three_month_phrases",
                                                 "six_month_phrases")
              for m in _found(text, _phrases(timeline, key))]
    deciding = sorted(d for d in dated
                      if contains_phrase(d[1], tuple(timeline.settings["decision_words"])))
    soon = [d for d in deciding if d[0] <= float(process.settings.get("soon_months", 6.5))]
    distant = contains_phrase(text, _phrases(timeline, "distant_phrases")) or distant_year(
        text, received.date(), timeline.settings["date_bands"]["within_6_months"])
    step_quote = _quote(text, steps[0]) if steps else ""
    if soon and distant:
        conflicts.append("decision_process: a decision date and a distant or no timeline "
                         "are both stated")
        return _prop("vague", 0.3, f"{soon[0][1]} / {_quote(text, distant)}")
    if (steps and soon) or distinct >= 2:
        quotes = dict.fromkeys(filter(None, (step_quote, soon[0][1] if soon else "",
                                             *(_quote(text, m) for m in steps[1:2]))))
        return _prop("defined", 0.8 if steps and soon and distinct >= 2 else 0.4,
                     " / ".join(list(quotes)[:2]))
    if steps or soon:
        return _prop("partial", 0.5, step_quote or soon[0][1])
    if dated:
        return _prop("vague", 0.5, min(dated)[1])
    if distant:
        return _prop("vague", 0.2, _quote(text, distant))
    return _prop("unknown", 0.5 if text.strip() else 0.0, "no decision process stated")


def _identify_pain(text: str, pain: tuple[str, re.Match[str]] | None,
                   metric: tuple[str, bool] | None) -> CriterionProposal:
    if pain is None:
        return _prop("none", 0.5 if text.strip() else 0.0, "no pain stated")
    band, match = pain
    quantified = band == "critical" and metric is not None and metric[1]
    return _prop(band, 0.8 if quantified else 0.5, _quote(text, match))


def _champion(contact: dict[str, Any], text: str, champion: Criterion,
              non_buyer: re.Match[str] | None) -> CriterionProposal:
    names = [b.name for b in champion.bands]
    if non_buyer:
        return _prop(names[-1], 0.0, _quote(text, non_buyer))
    influence = (contact.get("seniority") or "unknown") in champion.settings["influential"]
    owns = contains_phrase(text, _phrases(champion, "ownership_phrases"))
    step = contains_phrase(text, _phrases(champion, "next_step_phrases"))
    signals = int(influence) + int(owns is not None) + int(step is not None)
    if signals == 0 and not text.strip():
        return _prop(names[-1], 0.0, "no inquiry text")
    band, strength = champion.settings["by_signals"][signals]
    parts = [_title_fact(contact) if influence else "",
             *(_quote(text, m) for m in (owns, step) if m is not None)]
    evidence = "; ".join(dict.fromkeys(p for p in parts if p)) or _title_fact(contact)
    return _prop(band, strength, evidence)
