"""How `leadflow leads list` shows leads: one short block a lead, whatever the terminal's
width. The first line is the lead id, tier, status and arrival; under it who the lead is and
why it is where it is, wrapped at word boundaries (never cut). Times are the viewer's local
time (the time zone of the machine running the command, as `date` shows it), zone named.

A table with a column per field folded words and ISO timestamps into unreadable slivers on
an 80-column terminal, and cut the reason at 60 characters mid-word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from leadflow.cli.terminal import visible
from leadflow.clock import parse_datetime

# A date-time as leadflow writes them into reasons ('2026-12-04T02:50:00.85+00:00'): with its
# zone, so a time a reviewer typed into a note ('call 2026-12-10 09:00') is left as typed.
_ISO_DATETIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})(?![\w:])")


def viewer_time(moment: object) -> str:
    """'Fri 4 Dec 2026, 03:50 CET': the moment in this machine's local time zone."""
    when = parse_datetime(moment)  # a naive datetime is UTC, as the CRM stores it
    if when is None:
        return "—"
    local = when.astimezone()
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def readable_reason(reason: str) -> str:
    """The stored reason with every ISO timestamp in it shown as viewer_time."""
    return _ISO_DATETIME.sub(lambda m: viewer_time(m.group(0)) if parse_datetime(m.group(0))
                             else m.group(0), reason)


def _who(lead: Mapping[str, Any]) -> Text:
    record = lead.get("record") or {}
    contact, company = record.get("contact") or {}, record.get("company") or {}
    name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
    reach = lead.get("email_key") or contact.get("email") or contact.get("phone")
    return visible(" · ".join(str(p) for p in (name, company.get("name") or "no company",
                                               reach) if p))


def lead_block(lead: Mapping[str, Any]) -> RenderableType:
    """One lead: 'LEAD-… hot 93 awaiting_followup received …', then who and why."""
    tier = " ".join(str(p) for p in (lead.get("tier"), lead.get("bant_total")) if p is not None)
    head = Table.grid(padding=(0, 2))
    head.add_column(no_wrap=True)
    head.add_column()
    head.add_row(visible(lead["id"]), Text("  ".join((
        tier or "no tier", lead.get("status") or "in progress",
        f"received {viewer_time(lead['received_at'])}" if lead.get("received_at")
        else f"ingested {viewer_time(lead.get('ingested_at'))}"))))
    body = Table.grid(padding=(0, 1))
    body.add_column(no_wrap=True, style="dim")
    body.add_column(overflow="fold")  # wraps at spaces; folds only a word wider than the line
    body.add_row("who", _who(lead))
    body.add_row("why", visible(readable_reason(lead.get("status_reason") or "—")))
    return Group(head, Padding(body, (0, 0, 0, 4)))


def leads_view(leads: Iterable[Mapping[str, Any]]) -> RenderableType:
    """Every lead's block, newest first, under a line that says whose time the times are."""
    blocks = [lead_block(lead) for lead in leads]
    if not blocks:
        return Text("no leads match")
    zone = datetime.now().astimezone().tzname()
    count = f"{len(blocks)} lead{'' if len(blocks) == 1 else 's'}"
    title = Text(f"{count}, newest first; times in {zone}, this machine's zone",
                 style="bold")
    return Group(title, *blocks)
