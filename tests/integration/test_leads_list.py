"""`leadflow leads list` as a person reads it, on a CRM filled by a real `leadflow run`: the
reason beside each lead is shown whole, wrapped at word boundaries at any terminal width,
and every time is in the viewer's local time zone, never raw ISO."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadflow import cli
from leadflow.clock import parse_datetime
from leadflow.tools.crm import CrmStore

WARM_EVENT = {
    "id": "badge-0419", "source": "event", "received_at": "2026-11-19T16:30:00Z",
    "payload": {"First Name": "Jana", "Last Name": "Vogel",
                "Email Address": "jana.vogel@stadtwerke-lindenfeld.de",
                "Company": "Stadtwerke Lindenfeld", "Job Title": "Leiterin IT-Infrastruktur",
                "Country": "Deutschland",
                "Booth notes": "Smart-meter data into the data lake, project planned for "
                               "H1 2027. Wants a demo."}}
NO_CONTACT = {"id": "chat-9", "source": "chat", "received_at": "2026-11-22T19:25:00Z",
              "payload": [{"role": "visitor", "text": "Liam from Harbourside Brewing, bye"}]}
# A reviewer's note, longer than any column: it must be shown whole, never cut mid-word.
LONG_REASON = ("rejected in review: the customer asked us to hold off until their procurement "
               "freeze ends; call again after the budget meeting in February (Sofía, EMEA ops)")


@pytest.fixture
def viewer_in_berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine running `leads list` is set to Europe/Berlin (CET in November)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def blocks(stdout: str) -> dict[str, dict[str, str]]:
    """{lead id: {"head", "who", "why"}} from the output, each field's wrapped lines joined
    with one space (so a word folded across lines would show up split)."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    field = ""
    for line in stdout.splitlines():
        if line.startswith("LEAD-"):
            current, field = found.setdefault(line.split()[0], {"head": line.strip()}), "head"
        elif current is not None and line[:8] in ("    who ", "    why "):
            field = line[4:7]
            current[field] = line[8:].strip()
        elif current is not None and line.startswith(" " * 8) and line.strip():
            current[field] += " " + line.strip()
    return found


def test_leads_list_shows_the_whole_why_and_local_times_at_any_width(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, viewer_in_berlin: None) -> None:
    home = tmp_path / "home"
    env = {"LEADFLOW_HOME": str(home), "LEADFLOW_DATABASE_URL": None,
           "LEADFLOW_CHECKPOINT_DB": None}
    source = tmp_path / "leads.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in (WARM_EVENT, NO_CONTACT)))
    out = tmp_path / "out.jsonl"
    ran = CliRunner().invoke(cli.app, ["run", "-i", str(source), "--out", str(out),
                                       "--no-progress"], env=env)
    assert ran.exit_code == 0, ran.output
    warm, lost = (json.loads(line) for line in out.read_text().splitlines())
    assert warm["status"] == "awaiting_followup" and lost["status"] == "manual_review"
    crm = CrmStore(f"sqlite:///{home / 'crm.db'}")
    stored = crm.get_lead(warm["lead_id"])
    assert stored is not None
    due_iso = re.search(r"first touch due (\S+) \(warm: 24 h\)", stored["status_reason"])
    assert due_iso, stored["status_reason"]  # what the CRM keeps is ISO; the list is not
    due = parse_datetime(due_iso.group(1))
    assert due is not None
    due_cet = due.astimezone(UTC) + timedelta(hours=1)  # Berlin in late November/December
    crm.settle_lead(lost["lead_id"], datetime.now(UTC), [], status_reason=LONG_REASON)
    crm.close()

    for width in (60, 80, 132):
        monkeypatch.setattr(cli.console, "width", width)
        result = CliRunner().invoke(cli.app, ["leads", "list"], env=env)
        assert result.exit_code == 0, result.output
        shown = blocks(result.stdout)
        assert set(shown) == {warm["lead_id"], lost["lead_id"]}, result.stdout
        assert shown[lost["lead_id"]]["why"] == LONG_REASON, result.stdout
        assert shown[warm["lead_id"]]["why"] == (
            f"first touch due {due_cet:%a} {due_cet.day} {due_cet:%b %Y, %H:%M} CET "
            "(warm: 24 h)"), result.stdout
        assert "received Thu 19 Nov 2026, 17:30 CET" in shown[warm["lead_id"]]["head"]
        assert "warm 65" in shown[warm["lead_id"]]["head"]
        assert "Jana Vogel · Stadtwerke Lindenfeld" in shown[warm["lead_id"]]["who"]
        assert "times in CET, this machine's zone" in " ".join(result.stdout.split())
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", result.stdout), result.stdout
        assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= width
