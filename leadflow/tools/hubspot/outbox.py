"""The HubSpot sync as outbox rows: one row per lead and state of what HubSpot shows of it
(status, tier, score, owner, reason), delivered by the outbox's `hubspot` channel. A lead
that settles again unchanged adds nothing (same key); a changed one adds a row; a failed
delivery is retried with the outbox's back-off and, past its attempts, given up where the
dashboard and `leadflow sync hubspot` show it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadflow.tools.crm import CrmStore
from leadflow.tools.crm.hubspot_map import SYNCED_LEAD_COLUMNS

CHANNEL = "hubspot"
AUDIENCE = "crm_sync"


def sync_key(state: dict[str, Any]) -> str:
    """The outbox key of one state of a lead (its id and a digest of the synced columns)."""
    digest = hashlib.sha256(json.dumps([state.get(c) for c in SYNCED_LEAD_COLUMNS],
                                       default=str).encode()).hexdigest()[:16]
    return f"{CHANNEL}:{state['id']}:{digest}"


def queue_hubspot_sync(crm: CrmStore, now: datetime,
                       lead_ids: Sequence[str] | None = None) -> int:
    """Queue a sync for each qualified lead whose state HubSpot has not been sent yet (all
    of them when `lead_ids` is None); returns how many were queued."""
    queued = 0
    for state in crm.hubspot_sync_states(lead_ids):
        queued += crm.add_notification(
            dedupe_key=sync_key(state), lead_id=state["id"], audience=AUDIENCE,
            channel=CHANNEL, recipient="hubspot", subject=f"sync {state['id']} to HubSpot",
            body=f"status {state['status']}, tier {state['tier']}, score "
                 f"{state['bant_total']}, owner {state['rep_id'] or '-'}", now=now)
    return queued
