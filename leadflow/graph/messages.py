"""Inter-agent messages in the exact SPEC §5 shape."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from leadflow.clock import iso

AGENT_NAMES = {
    "capture": "LeadCapture Pro",
    "enrichment": "DataEnrichment Specialist",
    "qualification": "LeadQualification Expert",
    "routing": "LeadRouting Coordinator",
    "followup": "FollowUp Monitor",
    "supervisor": "Supervisor",
}
SUPERVISOR = AGENT_NAMES["supervisor"]
MessageType = Literal["handoff", "error", "escalation", "notification"]


def lead_reference(state: dict[str, Any]) -> dict[str, Any]:
    """A message's `lead_data`: who the lead is and where its decision stands (`bant` once
    qualified, `assignment` once assigned). The standardised record itself is the state's
    `lead` (and the CRM's lead row), referenced by `lead_id` rather than copied into every
    message, so a lead's checkpoint holds it once; `{}` before capture."""
    lead = state.get("lead") or {}
    if not lead:
        return {}
    contact, company = lead.get("contact") or {}, lead.get("company") or {}
    data: dict[str, Any] = {
        "lead_id": state.get("lead_id") or state.get("workflow_id"),
        "contact": contact.get("email") or contact.get("phone"),
        "company": company.get("name") or company.get("domain"),
    }
    bant = state.get("bant")
    if bant:
        data["bant"] = {"total": bant.get("total"), "tier": bant.get("tier")}
    if state.get("assignment"):
        data["assignment"] = {k: state["assignment"].get(k) for k in ("rep_id", "reason")}
    return data


def make_message(
    *,
    workflow_id: str,
    seq: int,
    from_agent: str,
    to_agent: str,
    message_type: MessageType,
    lead_data: dict[str, Any],
    processing_notes: str,
    priority: Literal["normal", "high"],
    now: datetime,
    deadline_s: float | None,
    retry_count: int = 0,
    previous_agent: str | None = None,
) -> dict[str, Any]:
    """Build one message; its id is derived from the workflow and sequence, so a replayed
    step produces the same id and the CRM log stays free of duplicates."""
    deadline = now + timedelta(seconds=deadline_s) if deadline_s else now
    return {
        "message_id": f"MSG-{workflow_id.removeprefix('LEAD-')}-{seq:03d}",
        "from_agent": from_agent,
        "to_agent": to_agent,
        "workflow_id": workflow_id,
        "message_type": message_type,
        "payload": {
            "lead_data": lead_data,
            "processing_notes": processing_notes,
            "priority": priority,
            "deadline": iso(deadline),
        },
        "metadata": {
            "timestamp": iso(now),
            "retry_count": retry_count,
            "previous_agent": previous_agent,
        },
    }
