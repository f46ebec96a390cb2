"""`leadflow leads` and `queues`: looking at leads and queues in the CRM."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli.access import crm_reader, crm_store
from leadflow.cli.app import app
from leadflow.cli.terminal import console, err, print_json_verbatim, visible

leads_app = typer.Typer(help="Look at leads in the CRM.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")


@leads_app.command("list")
def leads_list(
    status: Annotated[str | None, typer.Option(help="filter by status")] = None,
    tier: Annotated[str | None, typer.Option(help="filter by tier")] = None,
    rep: Annotated[str | None, typer.Option(
        help="filter by the lead's current owner (a rep id, or a manager's)")] = None,
    since: Annotated[str | None, typer.Option(
        help="ingested at or after: 2026-11-01, 2026-11-01T09:00 (UTC unless zoned), 7d")] = None,
    until: Annotated[str | None, typer.Option(
        help="ingested before (a date: through its end): as --since")] = None,
    cursor: Annotated[str | None, typer.Option(
        help="start after the page that printed this cursor")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """List leads, newest first: tier, status and arrival, who, and why (local times). A full
    page ends with the cursor of the next one (`--cursor`)."""
    from datetime import UTC, datetime

    from leadflow.cli.access import fail
    from leadflow.cli.listing import leads_view
    from leadflow.tools.crm_reads import BadListing, decode_cursor, moment

    now = datetime.now(UTC)
    bounds: dict[str, datetime | None] = {}
    for option, text in (("since", since), ("until", until), ("cursor", cursor)):
        try:  # a mistake is refused before the database is opened
            if option == "cursor":
                if text is not None:
                    decode_cursor(text)
            else:
                bounds[option] = None if text is None else moment(text, now=now,
                                                                  end=option == "until")
        except BadListing as exc:
            raise fail(f"--{option}: {exc}", code=2) from None
    page = crm_reader().lead_page(status=status, tier=tier, rep=rep, cursor=cursor,
                                  limit=limit, **bounds)
    console.print(leads_view(page.leads))
    if page.next_cursor is not None:
        console.print(f"next page: --cursor {page.next_cursor}", highlight=False,
                      soft_wrap=True)


@leads_app.command("show")
def leads_show(lead_id: str) -> None:
    """Show one lead's outcome record and message log as JSON."""
    crm = crm_store()
    lead = crm.get_lead(lead_id)
    if lead is None:
        err.print(f"[red]error:[/red] no lead {escape(lead_id)}")
        raise typer.Exit(code=1)
    body = lead.get("outcome") or {"lead_id": lead_id, "status": lead.get("status"),
                                   "record": lead.get("record")}
    body = {**body, "messages": crm.messages_for(lead_id),
            "assignment_audit": (crm.get_assignment(lead_id) or {}).get("audit")}
    scores = crm.scores_for(lead_id)  # every model's score, shadow ones included
    if scores:
        body["conversion_scores"] = [
            {**{k: v for k, v in s.items() if k != "lead_id"},
             "scored_at": s["scored_at"].isoformat()} for s in scores]
    print_json_verbatim(body)


@app.command()
def queues(
    name: Annotated[str | None, typer.Argument(help="show this queue's items")] = None,
) -> None:
    """Queue lengths (manual_review, nurture, marketing, retry_later) or one queue's items."""
    crm = crm_reader()
    if name is None:
        table = Table(title="queues")
        table.add_column("queue")
        table.add_column("open items", justify="right")
        for queue, n in crm.queue_counts().items():
            table.add_row(queue, str(n))
        console.print(table)
        return
    table = Table(title=name)
    for col in ("lead", "reason", "since"):
        table.add_column(col, overflow="fold")
    for row in crm.queue_items(name):
        table.add_row(visible(row["lead_id"]), visible(row["reason"]), str(row["created_at"]))
    console.print(table)


@app.command()
def explain(lead_id: str) -> None:
    """Why a lead has its tier, its rep or queue, what a person changed and what happens next."""
    from leadflow.explain import explain_lead
    from leadflow.tools.reps import RepDirectory

    found = explain_lead(crm_store(), RepDirectory(), lead_id)
    if found is None:
        err.print(f"[red]error:[/red] no lead {escape(lead_id)}")
        raise typer.Exit(code=1)
    console.print(visible(found.as_text()))
