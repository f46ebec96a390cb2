"""The outcome record per lead (SPEC §8): built by one function for every path, and stored
with the lead's settled status when it settles."""

from __future__ import annotations

from functools import partial
from typing import Any

from leadflow.agents.meddic import criteria_of
from leadflow.facts import lead_facts
from leadflow.settings import HubSpotSettings
from leadflow.state import trajectory
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import STATUSES
from leadflow.tools.hubspot.outbox import queue_hubspot_sync


def settled_status(state: dict[str, Any]) -> tuple[str, str | None]:
    """The lead's SPEC §6 status; a run that ended without one goes to manual review."""
    status = state.get("status")
    if status in STATUSES:
        return status, state.get("status_reason")
    return "manual_review", "workflow ended without a disposition"


def outcome_record(state: dict[str, Any]) -> dict[str, Any]:
    lead = state.get("lead") or {}
    item = state.get("item") or {}
    bant = state.get("bant") or None
    assignment = state.get("assignment") or None
    status, reason = settled_status(state)
    return {
        "lead_id": state.get("lead_id") or state.get("workflow_id"),
        "source_id": (str(item["id"]) if isinstance(item, dict)
                      and item.get("id") not in (None, "") else None),
        "status": status,
        "status_reason": reason,
        "contact": lead.get("contact"),
        "company": lead.get("company"),
        # The qualification, under its SPEC name whichever framework scored it (BANT or
        # MEDDIC, per run): `framework` says which, and the criteria are that framework's.
        "bant": (
            {"framework": bant.get("framework"),
             **{c: {k: bant[c][k] for k in ("score", "band", "evidence")}
                for c in criteria_of(bant) if c in bant},
             "total": bant.get("total"), "tier": bant.get("tier")}
            if bant else None
        ),
        "assignment": (
            {k: assignment.get(k) for k in ("rep_id", "region", "segment", "reason")}
            if assignment else None
        ),
        "flags": list(state.get("flags") or []),
        "trajectory": trajectory(state),
        # Which level decided each step (rules | llm | human), with model, prompt version
        # and token usage: what prompt engineers compare across runs (SPEC §7); and how the
        # step ended and how long it took, which the dashboard aggregates per agent (§9).
        "decisions": [
            {"step": s.get("step"), "agent": s.get("agent"), "decided_by": s.get("decided_by"),
             "model": s.get("model"), "prompt_version": s.get("prompt_version"),
             "usage": s.get("usage"), "outcome": s.get("outcome"),
             "error_type": s.get("error_type"), "started_at": s.get("started_at"),
             "duration_ms": s.get("duration_ms"),
             **({"usage_by_model": s["usage_by_model"]} if s.get("usage_by_model") else {})}
            for s in state.get("steps") or []
        ],
        "messages": list(state.get("messages") or []),
        # the first email sent and why, once the follow-up step chose one (style_choice.py)
        **({"outreach": outreach_of(state["outreach"])} if state.get("outreach") else {}),
        # the promoted conversion model's score, when one is (leadflow/scoring/live.py)
        **({"conversion": state["conversion"]} if state.get("conversion") else {}),
    }


def outreach_of(outreach: dict[str, Any]) -> dict[str, Any]:
    """The outcome's `outreach`: the style sent, why (the bandit's draw, its exploration
    floor, or the judge's pick with the bandit off), the judge's pick and the posterior
    means per style the choice was drawn from."""
    return {"style": outreach.get("chosen"), "chosen_by": outreach.get("chosen_by", "judge"),
            "judge_pick": outreach.get("judge_pick", outreach.get("chosen")),
            "judged_by": outreach.get("judged_by"), "segment": outreach.get("segment"),
            "posterior": outreach.get("posterior") or {}}


def stored_outcome(record: dict[str, Any]) -> dict[str, Any]:
    """The outcome as the thread's state keeps it (the `outcome` channel, set when the lead
    settles): without the messages, which the state already holds once (`messages`)."""
    return {k: v for k, v in record.items() if k != "messages"}


def outcome_of(values: dict[str, Any]) -> dict[str, Any]:
    """The outcome record of a settled thread, from its state values."""
    return {**values["outcome"], "messages": list(values.get("messages") or [])}


def error_outcome(item: object, workflow_id: str, reason: str) -> dict[str, Any]:
    """Outcome of an item the graph could not process at all: it still lands somewhere
    (manual review), in the same record shape as every other lead."""
    return outcome_record({"workflow_id": workflow_id, "item": item, "status": "manual_review",
                           "status_reason": reason, "flags": ["processing_error"]})


def persist_outcome(tools: Toolbox, state: dict[str, Any]) -> dict[str, Any]:
    """Store the message log and, unless the lead was merged into an existing one as a
    duplicate, its settled status and outcome — in one CRM transaction."""
    record = outcome_record(state)
    bant = state.get("bant") or {}
    values = {} if "duplicate" in record["flags"] else {
        "status": record["status"], "status_reason": record["status_reason"],
        "tier": bant.get("tier"), "bant_total": bant.get("total"),
        "record": state.get("lead") or {},
        "outcome": {**record, "messages": []},  # the messages live in the message log
    }
    facts_of = partial(lead_facts, record, target_tech=tools.icp.target_tech)
    tools.crm.settle_lead(record["lead_id"], tools.clock.now(), record["messages"],
                          facts_of if values else None, **values)
    if record["status"] != "manual_review":  # e.g. a "processing error" item, now settled
        tools.crm.resolve("manual_review", record["lead_id"], tools.clock.now(),
                          f"settled as {record['status']}")
    if values and HubSpotSettings.sync_on():  # HubSpot in step: the outbox's row
        queue_hubspot_sync(tools.crm, tools.clock.now(), [record["lead_id"]])
    return record
