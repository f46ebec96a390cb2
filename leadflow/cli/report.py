"""`leadflow report`: reports over what happened after routing."""

from __future__ import annotations

import typer
from rich.table import Table

from leadflow.cli.access import crm_store
from leadflow.cli.app import app
from leadflow.cli.terminal import console

report_app = typer.Typer(help="Reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("outreach")
def report_outreach() -> None:
    """A/B of the first-email styles: how often each was chosen and what followed."""
    from leadflow.agents.outreach import STYLES

    rows = crm_store().outreach_results()
    table = Table(title="first outreach by style (chosen drafts)")
    for col in ("style", "sent", "replied+", "won", "lost", "reply rate", "win rate"):
        table.add_column(col, justify="right" if col != "style" else "left")
    for style in STYLES:
        mine = {r["engagement"]: r["leads"] for r in rows if r["style"] == style}
        sent = sum(mine.values())
        engaged = sum(mine.get(e, 0) for e in ("replied", "meeting_booked", "closed_won"))
        won, lost = mine.get("closed_won", 0), mine.get("closed_lost", 0)
        table.add_row(style, str(sent), str(engaged), str(won), str(lost),
                      f"{engaged / sent:.0%}" if sent else "—",
                      f"{won / (won + lost):.0%}" if won + lost else "—")
    console.print(table)
