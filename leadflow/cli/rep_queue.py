"""`leadflow leads queue REP`: a rep's open leads in the order the conversion score advises
(icp.yaml `scoring.mode`, docs/models.md#acting-on-the-score)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from leadflow.cli.access import crm_reader
from leadflow.cli.leads import leads_app
from leadflow.cli.terminal import console, visible


@leads_app.command("queue")
def leads_queue(
    rep: Annotated[str, typer.Argument(help="the rep (or manager) id whose queue to show")],
    window: Annotated[int, typer.Option(
        min=1, help="how many of the owner's newest leads to look through")] = 500,
) -> None:
    """A rep's open leads, highest conversion priority first (A–D, then probability), then
    oldest first; unscored leads last."""
    from leadflow.cli.listing import viewer_time
    from leadflow.scoring.queue import by_priority, conversion_of

    leads = by_priority(crm_reader().list_leads(rep=rep, limit=window))
    if not leads:
        console.print(f"no open leads for {visible(rep)}")
        return
    table = Table(title=f"{rep}'s queue, by conversion priority")
    # the lead id whole on one line, whatever the width: it is what a rep copies
    table.add_column("lead", no_wrap=True, min_width=max(len(str(x["id"])) for x in leads))
    for col in ("company", "tier", "priority", "p", "status", "arrived"):
        table.add_column(col, overflow="fold", justify="right" if col == "p" else "left")
    for lead in leads:
        conversion = conversion_of(lead)
        company = ((lead.get("record") or {}).get("company") or {}).get("name") or "—"
        p = conversion.get("probability")
        table.add_row(visible(str(lead["id"])), visible(str(company)), str(lead.get("tier")),
                      str(conversion.get("priority") or "—"),
                      "—" if p is None else f"{float(p):.0%}", str(lead.get("status")),
                      viewer_time(lead.get("ingested_at")))
    console.print(table)
