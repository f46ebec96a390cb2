"""A rep's queue in the order the score advises (both `advise` and `blend`): the rep's open
leads, the promoted model's priority first (A before D; within one, the higher probability),
then the oldest first — the order a queue without a score is worked in. A lead settled or
closed (won, lost) is not in it; a lead the model did not score goes after the scored ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from leadflow.clock import parse_datetime

OPEN_STATUSES = ("awaiting_followup", "escalated")  # closed leads are `routed` again
CLOSING_FLAGS = frozenset({"closed_won", "closed_lost"})
_RANK = {"A": 0, "B": 1, "C": 2, "D": 3}


def conversion_of(lead: Mapping[str, Any]) -> Mapping[str, Any]:
    """The promoted model's score the lead's outcome carries ({}: none)."""
    return ((lead.get("outcome") or {}).get("conversion")) or {}


def is_open(lead: Mapping[str, Any]) -> bool:
    """Still the rep's to work: an open status and no close recorded."""
    flags = set((lead.get("outcome") or {}).get("flags") or ())
    return lead.get("status") in OPEN_STATUSES and not flags & CLOSING_FLAGS


def _arrived(lead: Mapping[str, Any]) -> float:
    when = parse_datetime(lead.get("ingested_at") or lead.get("received_at"))
    return when.timestamp() if when else float("-inf")


def by_priority(leads: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The open leads, the score's order (module docstring)."""
    def key(lead: Mapping[str, Any]) -> tuple[int, float, float, str]:
        conversion = conversion_of(lead)
        return (_RANK.get(str(conversion.get("priority")), len(_RANK)),
                -float(conversion.get("probability") or 0.0), _arrived(lead),
                str(lead.get("id") or lead.get("lead_id") or ""))

    return sorted((lead for lead in leads if is_open(lead)), key=key)
