"""`leadflow watch`: take leads from an IMAP mailbox as they arrive (leadflow/inbox.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from leadflow.cli.access import fail, ready
from leadflow.cli.app import app
from leadflow.cli.terminal import console, err
from leadflow.settings import ImapSettings, Settings


@app.command()
def watch(
    url: Annotated[str, typer.Argument(
        help="imap://user@host:port/INBOX (imaps:// or port 993: TLS from the start; any "
             "other port: STARTTLS). The password is LEADFLOW_IMAP_PASSWORD.")],
    plain: Annotated[bool, typer.Option(
        "--plain", help="no TLS at all: only for a server on this machine (localhost)")] = False,
    flag: Annotated[str, typer.Option(
        help="the flag or keyword that marks a processed message (e.g. \\Seen, \\Flagged, "
             "$LeadflowDone)")] = "\\Seen",
    move_to: Annotated[str | None, typer.Option(
        "--move-to", help="move processed messages to this folder (created if missing) "
                          "instead of flagging them")] = None,
    poll: Annotated[float | None, typer.Option(
        min=1.0, help="poll every N seconds instead of waiting with IDLE (servers without "
                      "IDLE are polled every 30 s anyway)")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="leads processed at once")] = 4,
    once: Annotated[bool, typer.Option(
        "--once", help="take in what is there, finish it, and exit (for cron)")] = False,
) -> None:
    """Watch a mailbox: every new message becomes an email lead (durable in the CRM's intake
    before the mailbox's position moves), then is flagged or moved. Ctrl-C stops."""
    import asyncio
    import signal

    from leadflow.inbox import InboxWatcher
    from leadflow.runtime import open_runtime
    from leadflow.tools.ingest.imap import ImapError, Mailbox, parse_mailbox_url

    imap = ImapSettings.from_env()
    try:
        target = parse_mailbox_url(url, plain=plain, user=imap.user)
    except ImapError as exc:
        raise fail(str(exc), code=2) from None
    if not imap.password:
        raise fail("LEADFLOW_IMAP_PASSWORD is not set (environment or .env): the mailbox's "
                   "password", code=2)
    settings = ready(Settings.from_env())
    mailbox = Mailbox(target, imap.password, flag=flag, move_to=move_to, ca_file=imap.ca_file)
    try:
        mailbox.open()  # a wrong password or an unreachable server: one line, before any work
    except ImapError as exc:
        raise fail(str(exc)) from None

    def say(message: str) -> None:
        err.print(escape(message), highlight=False)

    def done(lead_id: str, outcome: dict[str, Any], how: str) -> None:
        tier = (outcome.get("bant") or {}).get("tier") or "-"
        console.print(f"{lead_id}  {outcome.get('status')}  {tier}  ({how})", highlight=False)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with open_runtime(settings) as runtime:
            watcher = InboxWatcher(runtime, mailbox, concurrency=concurrency, poll=poll,
                                   on_done=done, say=say)
            how = "polling" if poll else "IDLE"
            say(f"watching {target.key} ({how}; processed messages "
                f"{'moved to ' + move_to if move_to else 'flagged ' + flag}); Ctrl-C stops")
            await watcher.run(stop, once=once, drain_timeout=None if once else 30.0)

    try:
        asyncio.run(main())
    except ImapError as exc:
        raise fail(str(exc)) from None
