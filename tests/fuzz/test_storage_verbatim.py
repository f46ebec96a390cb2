"""SQL-injection, format-string, markup and control-character text goes through the real
graph into the real CRM (SQLite and PostgreSQL) and comes back exactly as typed: from the
CRM's record and columns, and in `leadflow leads show` (valid JSON whose strings load back
to the stored value; control and format characters appear there as \\u escapes).

Documented normalisations, the same on both backends: NUL is dropped (PostgreSQL text
cannot hold it), a lone surrogate becomes U+FFFD (no UTF-8 store can hold it), whitespace
runs become one space, and one-line fields (names, company, campaign) lose line breaks.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadflow import cli
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import STATUSES, Account, Contact, Lead, LeadSource
from tests.conftest import RunItems, form_item
from tests.fuzz.strategies import verbatim_text

pytestmark = pytest.mark.db_backends

HOSTILE = [
    "Robert'); DROP TABLE leads;--",
    "' OR 1=1 --",
    "1; DELETE FROM contacts WHERE ''=''",
    "%s %d %(name)s {0} {}",
    "\x07bell \x1b[31mred\x1b[0m \x1b]0;title\x07",
    "\u202eevil \u202dback",
    "[red]markup[/red] :smile: [/bold]",
    "Zoë Ørsted 王小明 محمد",
    "👩\u200d👩\u200d👧 zero\u200bwidth non\u200cjoiner",
    "\x7fdel \x9bcsi \x90dcs",
    "NULL",
    "\\x00 \\n \\u0000 literal",
]
# input → what is stored, for the documented normalisations (company / inquiry)
NORMALISED = [
    ("Acme\x00 Corp", "Acme Corp", "line1\r\nline2\x00", "line1\nline2"),
    ("Two\nLines\r\nCorp", "Two Lines Corp", "keep\nlines", "keep\nlines"),
    ("Sur\ud800rogate", "Sur\ufffdrogate", "a\udfffb", "a\ufffdb"),
    ("  padded\t\tout  ", "padded out", "\u2028sep\x85", "sep"),
]


def verbatim_item(n: int, company: str, inquiry: str, last_name: str) -> dict[str, Any]:
    item = form_item(f"V-{n} {company}", **{
        "Work Email": f"lead{n}@verbatim{n}.io", "First Name": "Zoë", "Last Name": last_name,
        "Company": company, "message": inquiry, "Event Name": company})
    return item


def leads_show(lead_id: str, database_url: str, home: Path) -> tuple[str, dict[str, Any]]:
    """`leadflow leads show` as a user runs it; its stdout and the JSON it holds."""
    result = CliRunner().invoke(cli.app, ["leads", "show", lead_id], env={
        "LEADFLOW_DATABASE_URL": database_url, "LEADFLOW_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads(result.stdout)


def assert_nothing_acts_on_the_terminal(output: str) -> None:
    assert all(ch.isprintable() or ch == "\n" for ch in output), [
        ch for ch in output if not ch.isprintable() and ch != "\n"][:5]


def stored_columns(tools: Toolbox, lead_id: str) -> dict[str, Any]:
    """The CRM's own columns for the lead (not its JSON record)."""
    with tools.crm.engine.connect() as conn:
        lead = conn.execute(select(Lead.contact_id, Lead.account_id)
                            .where(Lead.id == lead_id)).one()
        return {
            "last_name": conn.execute(select(Contact.last_name)
                                      .where(Contact.id == lead.contact_id)).scalar(),
            "company": conn.execute(select(Account.name)
                                    .where(Account.id == lead.account_id)).scalar(),
            "campaign": conn.execute(select(LeadSource.campaign)
                                     .where(LeadSource.lead_id == lead_id)).scalar(),
            "source_id": conn.execute(select(LeadSource.source_id)
                                      .where(LeadSource.lead_id == lead_id)).scalar(),
        }


def test_hostile_text_is_stored_and_shown_verbatim(run_items: RunItems, tools: Toolbox,
                                                    database_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    items = [verbatim_item(n, text, text, f"Mc{text}") for n, text in enumerate(HOSTILE)]
    outcomes = run_items(items)

    with tools.crm.engine.connect() as conn:  # nothing was dropped or deleted
        assert conn.execute(select(func.count()).select_from(Lead)).scalar() == len(HOSTILE)
        assert conn.execute(select(func.count()).select_from(Contact)).scalar() == len(HOSTILE)
    for n, (text, outcome) in enumerate(zip(HOSTILE, outcomes, strict=True)):
        assert outcome["status"] in STATUSES and "processing_error" not in outcome["flags"]
        lead = tools.crm.get_lead(outcome["lead_id"])
        assert lead is not None
        for record in (lead["record"], lead["outcome"]):
            assert record["company"]["name"] == text
            assert record["contact"]["last_name"] == f"Mc{text}"
        assert lead["record"]["inquiry"] == text
        assert lead["record"]["source"]["campaign"] == text
        assert stored_columns(tools, outcome["lead_id"]) == {
            "last_name": f"Mc{text}", "company": text, "campaign": text,
            "source_id": f"V-{n} {text}"}

        output, shown = leads_show(outcome["lead_id"], database_url, tmp_path / "home")
        assert shown["company"]["name"] == text and shown["contact"]["last_name"] == f"Mc{text}"
        assert_nothing_acts_on_the_terminal(output)

    monkeypatch.setattr(cli.console, "width", 400)  # one line a lead: nothing folded
    result = CliRunner().invoke(cli.app, ["leads", "list"], env={
        "LEADFLOW_DATABASE_URL": database_url, "LEADFLOW_HOME": str(tmp_path / "home")})
    assert result.exit_code == 0, result.output  # '[/bold]' raised MarkupError here
    assert_nothing_acts_on_the_terminal(result.stdout)
    assert "[red]markup[/red] :smile: [/bold]" in result.stdout
    assert "\\x1b[31mred" in result.stdout and "\\u202eevil" in result.stdout


def test_nul_surrogates_and_line_breaks_are_normalised_the_same_everywhere(
        run_items: RunItems, tools: Toolbox, database_url: str, tmp_path: Path) -> None:
    items = [verbatim_item(n, company, inquiry, "McName")
             for n, (company, _, inquiry, _) in enumerate(NORMALISED)]
    outcomes = run_items(items)
    for (_, company, _, inquiry), outcome in zip(NORMALISED, outcomes, strict=True):
        assert outcome["status"] in STATUSES and "processing_error" not in outcome["flags"]
        lead = tools.crm.get_lead(outcome["lead_id"])
        assert lead is not None
        assert lead["record"]["company"]["name"] == company
        assert lead["record"]["inquiry"] == inquiry
        assert stored_columns(tools, outcome["lead_id"])["company"] == company
        _, shown = leads_show(outcome["lead_id"], database_url, tmp_path / "home")
        assert shown["company"]["name"] == company


_serial = itertools.count()


@settings(max_examples=max(8, settings().max_examples // 20),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(company=verbatim_text, inquiry=verbatim_text, name=verbatim_text)
def test_any_typed_text_round_trips_through_graph_crm_and_cli(
        run_items: RunItems, tools: Toolbox, database_url: str, tmp_path: Path,
        company: str, inquiry: str, name: str) -> None:
    """One CRM for all examples (the fixture is per test): each example is a new lead with
    its own email and domain, so dedupe never merges two of them."""
    n = next(_serial)
    name = name.rstrip(" ,;:.")  # capitalize_name trims these from a name's end
    (outcome,) = run_items([verbatim_item(n, company, inquiry, f"Mc{name}")])
    assert outcome["status"] in STATUSES and "processing_error" not in outcome["flags"]
    lead = tools.crm.get_lead(outcome["lead_id"])
    assert lead is not None
    assert lead["record"]["company"]["name"] == company
    assert lead["record"]["inquiry"] == inquiry
    assert lead["record"]["contact"]["last_name"] == f"Mc{name}"
    assert stored_columns(tools, outcome["lead_id"]) == {
        "last_name": f"Mc{name}", "company": company, "campaign": company,
        "source_id": f"V-{n} {company}"}
    output, shown = leads_show(outcome["lead_id"], database_url, tmp_path / "home")
    assert shown["company"]["name"] == company
    assert shown["contact"]["last_name"] == f"Mc{name}"
    assert_nothing_acts_on_the_terminal(output)
