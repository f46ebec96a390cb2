"""Why a lead ended where it did, in plain sentences a sales-ops lead can defend (issue 14):
each BANT criterion with its band, score and quote; why this rep or queue (the account match,
the rule that excluded each other rep, the tie-break); what a person changed; and what happens
next, with the due time in the lead's own local time.

Read from what the CRM keeps (the outcome record, the assignment audit, the SLA clock), so an
explanation never re-runs a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow.agents.meddic import criterion_maxima
from leadflow.clock import parse_datetime
from leadflow.graph.messages import AGENT_NAMES
from leadflow.tools.crm import CrmStore
from leadflow.tools.places import cities
from leadflow.tools.reps import RepDirectory

ROUTING_RULES = {
    "account_owner": "the account already has an owner, who gets every lead from it",
    "specialty_then_load": "among eligible reps, an industry specialist first, then the lowest "
                           "load (open leads / capacity), then the least recently assigned",
    "lowest_load": "among eligible reps, the lowest load (open leads / capacity), then the "
                   "least recently assigned",
    "no_eligible_rep": "no rep in the region covers the segment and is active, in office and "
                       "under capacity, so the region's sales manager takes it",
    "llm_exception_review": "the rules found no eligible rep; the model's exception review "
                            "picked one who was only softly excluded",
}
QUEUES = {"nurture": "the long-term nurture queue (cold leads)",
          "marketing": "the marketing queue (not a sales lead yet)",
          "manual_review": "the manual-review queue: a person decides",
          "escalated": "the region's sales manager: no rep could take it"}


@dataclass
class Explanation:
    lead_id: str
    headline: str
    sections: dict[str, list[str]] = field(default_factory=dict)

    def as_text(self) -> str:
        lines = [self.headline]
        for title, sentences in self.sections.items():
            if sentences:
                lines += ["", f"{title}:", *(f"  - {s}" for s in sentences)]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"lead_id": self.lead_id, "headline": self.headline, "sections": self.sections}


@cache
def _country_timezone(country: str) -> str | None:
    """The time zone of the country's largest city (GeoNames): the lead's local time."""
    mine = [c for c in cities() if c["countrycode"] == country]
    return max(mine, key=lambda c: c["population"])["timezone"] if mine else None


def local_time(moment: object, country: str | None) -> str:
    """'Fri 4 Dec 2026, 11:48 (Australia/Sydney)': the lead's local time, else UTC."""
    when = moment if isinstance(moment, datetime) else parse_datetime(moment)
    if when is None:
        return "unknown"
    zone_name = _country_timezone(country) if country else None
    try:
        zone = ZoneInfo(zone_name) if zone_name else ZoneInfo("UTC")
    except ZoneInfoNotFoundError:
        zone, zone_name = ZoneInfo("UTC"), None
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone_name or 'UTC'})"


def _tier_sentences(bant: dict[str, Any]) -> list[str]:
    out = []
    framework = str(bant.get("framework") or "bant").upper()
    maxima = criterion_maxima(bant)
    scored = [bant[k] for k in maxima if isinstance(bant.get(k), dict)]
    points = sum(int(part.get("score") or 0) for part in scored)
    scale = (f" ({points} of {sum(maxima.values())} points, scaled)"
             if sum(maxima.values()) != 100 and len(scored) == len(maxima) else "")
    out.append(f"{framework} total {bant.get('total')}/100{scale} gives tier {bant.get('tier')} "
               "(hot 80–100, warm 60–79, cold 40–59, unqualified 0–39).")
    for key, top in maxima.items():
        name, part = key.replace("_", " ").capitalize(), bant.get(key)
        if isinstance(part, dict):
            band = str(part.get("band", "")).replace("_", " ")
            quote = str(part.get("evidence") or "").strip().rstrip(".")
            out.append(f"{name}: {band}, {part.get('score')}/{top} — \"{quote}\".")
    return out


def _rep_name(reps: RepDirectory, rep_id: str | None) -> str:
    person = reps.person(rep_id or "")
    return f"{person.name} ({rep_id})" if person else str(rep_id)


def _routing_sentences(assignment: dict[str, Any] | None, reps: RepDirectory,
                       status: str) -> list[str]:
    if not assignment:
        return [f"Not routed to a rep: it went to {QUEUES.get(status, status)}."]
    audit = assignment.get("audit") or {}
    rule = audit.get("rule") or ""
    out = [f"Assigned to {_rep_name(reps, assignment.get('rep_id'))}: {assignment.get('reason')}."]
    if rule in ROUTING_RULES:
        out.append(f"Rule: {ROUTING_RULES[rule]}.")
    elif rule:
        out.append(f"Rule: {rule.replace('_', ' ')}.")
    candidates = audit.get("candidates") or []
    region = assignment.get("region")
    same_region = [c for c in candidates
                   if not str(c.get("excluded_by") or "").startswith("region ")]
    others = len(candidates) - len(same_region)
    if others:
        out.append(f"{others} reps outside {region} were not considered.")
    for c in same_region:
        name = _rep_name(reps, c.get("rep_id"))
        load = f"load {c.get('open_leads')}/{c.get('capacity')}"
        if c.get("excluded_by"):
            out.append(f"{name} was excluded: {c['excluded_by']}.")
        elif c.get("rep_id") != assignment.get("rep_id"):
            specialist = ", industry specialist" if c.get("specialty_match") else ""
            out.append(f"{name} was eligible ({load}{specialist}) but ranked lower.")
    for conflict in audit.get("conflicts") or []:
        out.append(f"Business-rule conflict, safest default taken: {conflict}.")
    return out


def _human_sentences(decisions: list[dict[str, Any]], flags: list[str]) -> list[str]:
    out = [f"{d.get('agent')}: a person decided at step {d.get('step')}."
           for d in decisions if d.get("decided_by") == "human"]
    out += [f"Reviewer action: {f.removeprefix('human_').replace('_', ' ')}."
            for f in flags if f.startswith("human_")]
    return out


def _next_sentences(status: str, sla: dict[str, Any] | None, country: str | None,
                    reps: RepDirectory) -> list[str]:
    if status == "awaiting_followup" and sla:
        rep = _rep_name(reps, sla.get("rep_id"))
        if sla.get("first_touch_at"):
            return [f"{rep} first touched the lead at {local_time(sla['first_touch_at'], country)}"
                    "; the follow-up clock waits for the next engagement."]
        return [f"{rep} must make first contact by {local_time(sla['due_at'], country)} "
                f"({sla.get('tier')} lead); a reminder goes out at "
                f"{local_time(sla['remind_at'], country)}, and the sales manager is told if "
                f"nothing happened by {local_time(sla['escalate_at'], country)}."]
    if status == "manual_review":
        return ["A person decides in `leadflow review`; nothing else happens until then."]
    if status in QUEUES:
        return [f"It waits in {QUEUES[status]}."]
    return []


def _conversion_sentences(conversion: dict[str, Any]) -> list[str]:
    """The promoted conversion model's score, in words (docs/models.md)."""
    out = [f"Conversion model {conversion.get('model_version')}: "
           f"{float(conversion.get('probability') or 0):.0%} chance of a meeting or a win, "
           f"priority {conversion.get('priority')} (A is the top quarter)."]
    for factor in conversion.get("factors") or []:
        value = factor.get("value")
        shown = f"{factor.get('feature')} = {value}" if value is not None else \
            f"no {factor.get('feature')}"
        out.append(f"{shown} {factor.get('direction')} it ({factor.get('effect'):+.2f} log-odds "
                   "against a typical lead).")
    return out


def explain_lead(crm: CrmStore, reps: RepDirectory, lead_id: str) -> Explanation | None:
    """The explanation of one lead from the CRM, or None when there is no such lead."""
    lead = crm.get_lead(lead_id)
    if lead is None:
        return None
    outcome = lead.get("outcome") or {}
    record = lead.get("record") or {}
    contact = outcome.get("contact") or record.get("contact") or {}
    company = outcome.get("company") or record.get("company") or {}
    status = str(lead.get("status") or outcome.get("status") or "unknown")
    who = " ".join(filter(None, (contact.get("first_name"), contact.get("last_name")))) \
        or contact.get("email") or contact.get("phone") or "unknown contact"
    role = ", ".join(filter(None, (contact.get("title"), company.get("name"))))
    reason = outcome.get("status_reason") or lead.get("status_reason")
    headline = f"{lead_id} — {who}{f' ({role})' if role else ''}: {status.replace('_', ' ')}"
    if reason and status != "awaiting_followup":  # its due times are told below, in local time
        headline += f" — {reason}"
    country = company.get("country")
    explanation = Explanation(lead_id, headline)
    bant = outcome.get("bant")
    explanation.sections["Why this tier"] = (_tier_sentences(bant) if bant
                                             else ["Not qualified: the lead stopped earlier."])
    if "repeat_inquiry" in (outcome.get("flags") or []):
        passes = sum(d.get("agent") == AGENT_NAMES["capture"]
                     for d in outcome.get("decisions") or [])
        explanation.sections["Why this tier"].append(
            f"The lead wrote {passes} times; it was qualified again on all of its messages "
            "each time it wrote (a repeat inquiry).")
    assignment = crm.get_assignment(lead_id) or outcome.get("assignment")
    explanation.sections["Why this rep or queue"] = _routing_sentences(assignment, reps, status)
    explanation.sections["What a person changed"] = _human_sentences(
        outcome.get("decisions") or [], outcome.get("flags") or []) or ["Nothing: the rules "
                                                                       "decided every step."]
    if outcome.get("conversion"):
        explanation.sections["Likely to convert"] = _conversion_sentences(outcome["conversion"])
    data_flags = [f for f in outcome.get("flags") or [] if not f.startswith("human_")]
    if data_flags:
        explanation.sections["Data notes"] = [", ".join(data_flags)]
    explanation.sections["What happens next"] = _next_sentences(
        status, crm.sla_for(lead_id), country, reps)
    return explanation
