"""`leadflow followup sweep` and `event`: waking leads that wait for engagement."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from leadflow.cli.access import with_runtime
from leadflow.cli.app import app
from leadflow.cli.terminal import console, err

followup_app = typer.Typer(help="Follow-up timers.", no_args_is_help=True)
app.add_typer(followup_app, name="followup")


@followup_app.command("sweep")
def followup_sweep(
    now: Annotated[str | None, typer.Option(help="ISO time to sweep at (default: now)")] = None,
) -> None:
    """Wake every waiting lead: reminders, 24 h escalations, out-of-office reassignment."""
    import asyncio

    from leadflow.clock import parse_datetime
    from leadflow.followup import sweep

    moment = parse_datetime(now) if now else None
    outcomes = asyncio.run(with_runtime(
        lambda rt: sweep(rt.graph, rt.tools, moment, rt.context)))
    counts = Counter(o["status"] for o in outcomes)
    console.print(f"swept {len(outcomes)} waiting leads: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@app.command()
def event(
    lead_id: str,
    kind: Annotated[str, typer.Argument(help="contacted|replied|meeting_booked|closed_won|"
                                             "closed_lost|reassigned")],
    rep: Annotated[str | None, typer.Option(help="for reassigned: the new rep")] = None,
    at: Annotated[str | None, typer.Option(help="ISO time of the event (default: now)")] =
    None,
) -> None:
    """Record an engagement event; it wakes the lead's follow-up."""
    import asyncio

    from pydantic import ValidationError

    from leadflow.followup import Wake, wake_lead

    try:
        wake = Wake(event=kind, rep_id=rep, at=at)  # type: ignore[arg-type]
        outcome = asyncio.run(with_runtime(
            lambda rt: wake_lead(rt.graph, lead_id, wake, rt.tools, rt.context)))
    except ValidationError as exc:
        err.print(f"[red]error:[/red] {exc.errors()[0]['msg']} ({kind!r})")
        raise typer.Exit(code=1) from exc
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"{lead_id}: {outcome['status']} ({outcome.get('status_reason')})")


@app.command()
def slots(lead_id: str) -> None:
    """The lead's owner's next open meeting slots (from the rep's calendar, in their zone)."""
    import asyncio

    from leadflow.meetings import BookingRefused, lead_slots

    try:
        found = asyncio.run(with_runtime(lambda rt: lead_slots(rt.graph, rt.tools, lead_id)))
    except BookingRefused as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    if not found["slots"]:
        console.print(f"{lead_id}: {found['rep_id']} has no open slot in the next days")
        return
    console.print(f"{lead_id}: {found['rep_id']}'s open slots ({found['timezone']}):")
    for slot in found["slots"]:
        console.print(f"  {slot['start']}  {slot['local']}", highlight=False)


@app.command()
def book(
    lead_id: str,
    slot: Annotated[str, typer.Argument(help="the slot's start, ISO 8601 with a zone "
                                             "(as `leadflow slots` lists it)")],
) -> None:
    """Book a meeting in the owner's calendar with the lead as attendee; records
    meeting_booked (the SLA's first touch)."""
    import asyncio

    from leadflow.meetings import BookingRefused
    from leadflow.meetings import book as book_meeting
    from leadflow.tools.calendar import parse_moment

    try:
        start = parse_moment(slot)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    try:
        booked = asyncio.run(with_runtime(
            lambda rt: book_meeting(rt.graph, rt.tools, lead_id, start, rt.context)))
    except BookingRefused as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    again = " (already booked)" if booked["already_booked"] else ""
    console.print(f"{lead_id}: meeting with {booked['rep_id']} at {booked['slot']['start']} "
                  f"({booked['slot']['local']}){again}", highlight=False)
