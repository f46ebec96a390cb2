"""`leadflow forget` and `leadflow retention apply`: erasing a person's data (on request, or
when an unconverted lead has been idle longer than LEADFLOW_RETENTION_MONTHS)."""

from __future__ import annotations

from typing import Annotated

import typer

from leadflow.cli.access import fail, ready
from leadflow.cli.app import app
from leadflow.cli.terminal import console, err, visible
from leadflow.settings import RetentionSettings, Settings, current_user

retention_app = typer.Typer(help="Anonymise leads nobody converted after a while.",
                            no_args_is_help=True)


@app.command()
def forget(
    who: Annotated[str | None, typer.Argument(help="the person's email address, or a lead id "
                                                   "(LEAD-…) of theirs")] = None,
    by: Annotated[str | None, typer.Option(help="who asked, for the audit entry "
                                                "(default: $USER)")] = None,
    retry_calendars: Annotated[bool, typer.Option(
        "--retry-calendars", help="only delete the meetings earlier erasures could not "
                                  "delete from a calendar (no WHO)")] = False,
) -> None:
    """Erase a person: their data in every CRM table, every checkpoint of their threads and
    their meetings in the reps' calendars. Their leads stay, anonymised, so the metrics still
    count them; the erasure is audited. Exit 1 when a meeting could not be deleted (it is
    retried by every later erasure and by --retry-calendars)."""
    import asyncio

    from leadflow.checkpoint import open_checkpointer
    from leadflow.clock import SystemClock
    from leadflow.tools.crm import CrmStore
    from leadflow.tools.erasure import forget as erase_person
    from leadflow.tools.erasure import is_lead_id, retry_meeting_erasures

    if retry_calendars:
        if who is not None:
            raise fail("--retry-calendars takes no WHO", code=2)
        settings = ready(Settings.from_env(), models=False)
        crm = CrmStore(settings.database_url)
        try:
            meetings = asyncio.run(retry_meeting_erasures(crm, now=SystemClock().now()))
        finally:
            crm.close()
        console.print(f"{meetings.deleted} meeting(s) of erased people deleted from the "
                      "reps' calendars", highlight=False)
        _pending(meetings)
        return
    if who is None:
        raise fail("say whom to forget: an email address or a lead id (LEAD-…)", code=2)
    if "@" not in who and not is_lead_id(who):
        raise fail(f"{who!r} is neither an email address nor a lead id (LEAD-…)")
    settings = ready(Settings.from_env(), models=False)
    crm = CrmStore(settings.database_url)

    async def go() -> object:
        async with open_checkpointer(settings) as saver:
            return await erase_person(crm, saver, who, requested_by=by or current_user(),
                                      now=SystemClock().now())

    try:
        report = asyncio.run(go())
    finally:
        crm.close()
    if report is None:
        raise fail(f"nobody is known by {who}")
    console.print(visible(_summary(report)), highlight=False)
    _pending(getattr(report, "meetings", None))


def _summary(report: object) -> str:
    from leadflow.tools.erasure import ErasureReport

    assert isinstance(report, ErasureReport)
    leads = ", ".join(report.lead_ids) or "no lead (a thread only)"
    deleted = report.meetings.deleted if report.meetings else 0
    return (f"erased: {leads}; {report.threads} checkpointed thread(s) deleted, "
            f"{sum(report.rows.values())} CRM row(s) anonymised, {deleted} calendar "
            f"meeting(s) deleted; audit entry {report.erasure_id}")


def _pending(meetings: object) -> None:
    """Meetings still in a calendar: one warning line each, and exit 1."""
    pending = getattr(meetings, "pending", ())
    for one in pending:
        err.print(visible(f"warning: the meeting of {one['lead_id']} at {one['start']} is "
                          f"still in {one['rep_id']}'s calendar: {one['why']}"),
                  highlight=False)
    if pending:
        raise fail(f"{len(pending)} meeting(s) not deleted yet: retried by every later "
                   "erasure and `leadflow forget --retry-calendars`; operations notified")


@retention_app.command("apply")
def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only count the leads "
                                                            "it would anonymise")] = False,
    now: Annotated[str | None, typer.Option(help="ISO time to apply it at (default: "
                                                 "now)")] = None,
) -> None:
    """Anonymise every lead not converted (no meeting booked, not closed won) and idle for
    LEADFLOW_RETENTION_MONTHS months, as `forget` does; off while that is unset."""
    import asyncio

    from leadflow.checkpoint import open_checkpointer
    from leadflow.clock import SystemClock, parse_datetime
    from leadflow.tools.crm import CrmStore
    from leadflow.tools.erasure import RetentionResult, apply_retention

    try:
        months = RetentionSettings.from_env().months
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    moment = parse_datetime(now) if now else SystemClock().now()
    if moment is None:
        raise fail(f"--now {now!r} is not an ISO time")
    if months is None:
        console.print("retention is off: LEADFLOW_RETENTION_MONTHS is not set")
        return
    settings = ready(Settings.from_env(), models=False)
    crm = CrmStore(settings.database_url)

    async def go() -> RetentionResult:
        async with open_checkpointer(settings) as saver:
            return await apply_retention(crm, saver, months, now=moment, dry_run=dry_run,
                                         requested_by=f"retention ({current_user()})")

    try:
        result = asyncio.run(go())
    finally:
        crm.close()
    verb = "would anonymise" if dry_run else "anonymised"
    console.print(f"{verb} {len(result.lead_ids)} lead(s) not converted and idle since before "
                  f"{result.idle_before.date().isoformat()} "
                  f"(LEADFLOW_RETENTION_MONTHS={months})", highlight=False)
    for lead_id in result.lead_ids[:20] if dry_run else []:
        console.print(f"  {lead_id}", highlight=False)
    _pending(result.meetings)


app.add_typer(retention_app, name="retention")
