"""Delivery workers for the notification outbox: console, webhook (Slack-compatible JSON
POST), SMTP email, and the HubSpot sync (tools/hubspot: a row is a lead to bring up to
date there). Delivery is at-least-once with the outbox's dedupe key sent along
(X-Leadflow-Dedupe header, email Message-ID) so receivers can drop a repeat; failures are
retried with exponential backoff and jitter, then given up (failed_at) for a person."""

from __future__ import annotations

import asyncio
import logging
import random
import smtplib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import httpx

from leadflow.clock import Clock
from leadflow.settings import DeliverySettings, HubSpotSettings
from leadflow.tools.crm import CrmStore
from leadflow.tools.hubspot.client import HubSpotError
from leadflow.tools.notifier import delivery_settings

if TYPE_CHECKING:
    from leadflow.tools.hubspot.sync import HubSpotSync

log = logging.getLogger("leadflow.notifications")
CHANNELS = ("console", "webhook", "email", "hubspot")


# What configures each channel, for the message when it is not.
CHANNEL_SETTING = {"webhook": "LEADFLOW_WEBHOOK_URL", "email": "LEADFLOW_SMTP_HOST",
                   "hubspot": "LEADFLOW_HUBSPOT_SYNC=1 and LEADFLOW_HUBSPOT_TOKEN"}


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)  # due, but their channel is unset

    def held_line(self) -> str:
        """One line on what waits for a channel to be configured ('' when nothing does)."""
        if not self.held:
            return ""
        parts = [f"{n} by {channel} (set {CHANNEL_SETTING.get(channel, channel)})"
                 for channel, n in sorted(self.held.items())]
        return (f"{sum(self.held.values())} notifications wait for a channel that is not "
                f"configured: {', '.join(parts)}; they stay in the outbox")


def configured_channels() -> set[str]:
    """The channels that can deliver now: the log always, webhook, email and HubSpot when
    set."""
    env = DeliverySettings.from_env()
    ready = {"console": True, "webhook": bool(env.webhook_url), "email": bool(env.smtp_host),
             "hubspot": HubSpotSettings.from_env().ready}
    return {channel for channel, ok in ready.items() if ok}


def _open_hubspot(crm: CrmStore, clock: Clock) -> HubSpotSync:
    from leadflow.tools.hubspot.sync import HubSpotSync
    from leadflow.tools.reps import RepDirectory

    return HubSpotSync(crm, RepDirectory(), clock)


def backoff(attempt: int) -> timedelta:
    retry = delivery_settings()["retry"]
    base = min(retry["max_backoff_s"], retry["initial_backoff_s"] * 2 ** (attempt - 1))
    return timedelta(seconds=base * random.uniform(0.75, 1.25))


async def _send_webhook(row: dict[str, Any], client: httpx.AsyncClient) -> None:
    response = await client.post(
        DeliverySettings.from_env().webhook_url,
        json={"text": f"*{row['subject']}*\n{row['body']}", "lead_id": row["lead_id"],
              "audience": row["audience"], "recipient": row["recipient"]},
        headers={"X-Leadflow-Dedupe": row["dedupe_key"]}, timeout=10)
    response.raise_for_status()


def email_message(row: dict[str, Any]) -> EmailMessage:
    """The notification as an email. The subject carries lead text (company names, error
    reasons): its line breaks become spaces, since a header value must be one line (the
    email package raises on CR/LF, and a raw one would inject a header)."""
    message = EmailMessage()
    message["From"] = DeliverySettings.from_env().smtp_from
    message["To"] = row["recipient"]
    message["Subject"] = " ".join(str(row["subject"]).split())
    message["Message-ID"] = f"<{row['dedupe_key'].replace(':', '.')}@leadflow>"
    message.set_content(row["body"])
    return message


def _send_email(row: dict[str, Any]) -> None:
    message = email_message(row)
    env = DeliverySettings.from_env()
    with smtplib.SMTP(env.smtp_host, env.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


async def deliver_due(crm: CrmStore, clock: Clock, limit: int = 100,
                      only: Collection[str] | None = None,
                      hubspot: HubSpotSync | None = None) -> DeliveryReport:
    """One pass over the outbox's due notifications (of the channels in `only`, when given);
    `hubspot` is the sync session for the `hubspot` rows (opened here when there are some)."""
    report = DeliveryReport()
    max_attempts = int(delivery_settings()["retry"]["max_attempts"])
    channels = configured_channels() & set(only if only is not None else CHANNELS)
    rows = await asyncio.to_thread(crm.due_notifications, clock.now(), limit, channels)
    due = await asyncio.to_thread(crm.due_by_channel, clock.now())
    report.held = {c: n for c, n in due.items()
                   if c not in channels and (only is None or c in only)}
    async with httpx.AsyncClient() as client:
        for row in rows:
            channel = row["channel"]
            try:
                if channel == "webhook":
                    await _send_webhook(row, client)
                elif channel == "email":
                    await asyncio.to_thread(_send_email, row)
                elif channel == "hubspot":
                    if hubspot is None:
                        hubspot = await asyncio.to_thread(_open_hubspot, crm, clock)
                    await asyncio.to_thread(hubspot.sync_lead, row["lead_id"])
                else:
                    log.info("[%s → %s] %s", row["audience"], row["recipient"], row["subject"])
            except (httpx.HTTPError, OSError, smtplib.SMTPException, HubSpotError) as exc:
                attempt = row["attempts"] + 1
                error = f"{channel}: {type(exc).__name__}: {exc}"[:500]
                retry_at = (clock.now() + backoff(attempt)
                            if attempt < max_attempts else None)
                await asyncio.to_thread(crm.mark_delivery, row["id"], clock.now(),
                                        delivered=False, error=error, retry_at=retry_at)
                report.errors.append(error)
                if retry_at is None:
                    report.failed += 1
                else:
                    report.retried += 1
                continue
            await asyncio.to_thread(crm.mark_delivery, row["id"], clock.now(),
                                    delivered=True)
            report.delivered += 1
    return report
