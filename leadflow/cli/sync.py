"""`leadflow sync hubspot`: HubSpot in step with the CRM (tools/hubspot), through the outbox."""

from __future__ import annotations

from typing import Annotated

import typer

from leadflow.cli.app import app
from leadflow.cli.terminal import console, err
from leadflow.settings import Settings

sync_app = typer.Typer(help="Keep an outside CRM in step with leadflow's.",
                       no_args_is_help=True)
app.add_typer(sync_app, name="sync")


@sync_app.command("hubspot")
def sync_hubspot(
    pull_owners: Annotated[bool, typer.Option(
        "--pull-owners", help="read company owners changed in HubSpot back into the "
                              "accounts routing reads (nothing is pushed)")] = False,
) -> None:
    """Queue a sync for every qualified lead HubSpot has not seen in its current state and
    deliver the due ones (failures retry later, as every outbox row does); or read owners
    back."""
    import asyncio

    from leadflow.cli.access import fail, ready
    from leadflow.settings import HubSpotSettings
    from leadflow.toolbox import Toolbox
    from leadflow.tools.delivery import deliver_due
    from leadflow.tools.hubspot.client import HubSpotError
    from leadflow.tools.hubspot.outbox import CHANNEL, queue_hubspot_sync
    from leadflow.tools.hubspot.sync import HubSpotSync

    hubspot = HubSpotSettings.from_env()
    if not hubspot.ready:
        raise fail("the HubSpot sync is off: set LEADFLOW_HUBSPOT_SYNC=1 and "
                   "LEADFLOW_HUBSPOT_TOKEN (a private app's token)", code=2)
    settings = ready(Settings.from_env(), models=False)
    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    session = HubSpotSync(tools.crm, tools.reps, tools.clock, hubspot)
    if pull_owners:
        try:
            pulled = session.pull_owners()
        except HubSpotError as exc:
            raise fail(str(exc)) from None
        console.print(f"read {pulled.read} companies, {len(pulled.changed)} account owners "
                      f"changed")
        for account, rep in pulled.changed:
            console.print(f"  account {account} → {rep or 'no owner'}", highlight=False)
        if pulled.unknown_owners:
            err.print(f"[yellow]warning:[/yellow] HubSpot owners who are no rep in reps.yaml "
                      f"(by email), left as they were: {', '.join(sorted(pulled.unknown_owners))}",
                      highlight=False)
        return
    queued = queue_hubspot_sync(tools.crm, tools.clock.now())
    totals = [0, 0, 0]
    while True:
        report = asyncio.run(deliver_due(tools.crm, tools.clock, only=[CHANNEL],
                                         hubspot=session))
        for i, n in enumerate((report.delivered, report.retried, report.failed)):
            totals[i] += n
        for error in report.errors[:5]:
            err.print(f"  {error}", highlight=False)
        if not report.delivered:
            break
    waiting = tools.crm.due_by_channel(tools.clock.now()).get(CHANNEL, 0)
    console.print(f"queued {queued}, synced {totals[0]}, retrying later {totals[1]}, "
                  f"given up {totals[2]}" + (f", {waiting} still due" if waiting else ""))
    if totals[1] or totals[2]:
        raise typer.Exit(code=1)
