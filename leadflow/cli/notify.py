"""`leadflow notify`: the notification outbox."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from leadflow.cli.app import app
from leadflow.cli.terminal import console, err
from leadflow.settings import Settings

notify_app = typer.Typer(help="The notification outbox.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("deliver")
def notify_deliver(
    loop: Annotated[bool, typer.Option(help="keep delivering every --every seconds")] = False,
    every: Annotated[float, typer.Option(min=0.1)] = 5.0,
) -> None:
    """Deliver due notifications (console, webhook, SMTP), retrying failures with backoff."""
    import asyncio

    from leadflow.cli.access import ready
    from leadflow.toolbox import Toolbox
    from leadflow.tools.delivery import deliver_due

    settings = ready(Settings.from_env(), models=False)
    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    while True:
        report = asyncio.run(deliver_due(tools.crm, tools.clock))
        console.print(f"delivered {report.delivered}, retrying {report.retried}, "
                      f"given up {report.failed}")
        for error in report.errors[:5]:
            err.print(f"  {error}", highlight=False)
        if report.held:
            err.print(f"[yellow]warning:[/yellow] {report.held_line()}", highlight=False)
        if not loop:
            if report.held and not report.delivered:
                raise typer.Exit(code=1)
            break
        time.sleep(every)
