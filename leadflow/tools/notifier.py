"""Notifications go to the CRM outbox; delivery workers (console, webhook, SMTP) send them.

Writing to the outbox inside the deciding step, keyed by (lead, step, audience), is what
makes a retried or resumed step never notify twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from leadflow.config import CONFIG_DIR, read_yaml
from leadflow.tools.crm import CrmStore
from leadflow.tools.reps import RepDirectory


@cache
def delivery_settings() -> dict[str, Any]:
    return read_yaml(CONFIG_DIR / "notifications.yaml")


def route_for(audience: str) -> str:
    settings = delivery_settings()
    return str(settings["routes"].get(audience, settings["default"]))


@dataclass(frozen=True)
class Notice:
    audience: str
    subject: str
    body: str
    recipient: str | None = None
    channel: str | None = None  # None: the audience's route in notifications.yaml


class Notifier:
    def __init__(self, crm: CrmStore, directory: RepDirectory) -> None:
        self.crm = crm
        self.audiences = directory.config.audiences

    def send(self, notice: Notice, *, lead_id: str, step: str, now: datetime) -> bool:
        """Queue once per (lead, step, audience, recipient); True if newly queued."""
        recipient = (notice.recipient or self.audiences.get(notice.audience)
                     or self.audiences["operations"])
        return self.crm.add_notification(
            dedupe_key=f"{lead_id}:{step}:{notice.audience}:{recipient}",
            lead_id=lead_id,
            audience=notice.audience,
            channel=notice.channel or route_for(notice.audience),
            recipient=recipient,
            subject=notice.subject,
            body=notice.body,
            now=now,
        )
