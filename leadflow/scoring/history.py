"""A lead as the CRM stores it, read back for training (`CrmStore.history_leads`). Kept on
its own, without imports, so the CRM store can name it without loading the agents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StoredLead:
    lead_id: str
    arrived_at: datetime | None  # the lead row's received_at, else ingested_at
    record: Mapping[str, Any]  # the lead record (contact, company, source, inquiry)
    outcome: Mapping[str, Any]  # the outcome record (qualification, flags …)
    routed_to: str | None = None  # the rep (or manager) routing assigned, before any reassignment
