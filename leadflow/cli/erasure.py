"""`leadflow forget` and `leadflow retention apply`: erasing a person's data (on request, or
when an unconverted lead has been idle longer than LEADFLOW_RETENTION_MONTHS)."""

from __future__ import annotations

from typing import Annotated

import typer

from leadflow.cli.access import fail, ready
from leadflow.cli.app import app
from leadflow.cli.terminal import console, visible
from leadflow.settings import RetentionSettings, Settings, current_user

retention_app = typer.Typer(help="Anonymise leads nobody converted after a while.",
                            no_args_is_help=True)


@app.command()
def forget(
    who: Annotated[str, typer.Argument(help="the person's email address, or a lead id "
                                            "(LEAD-…) of theirs")],
    by: Annotated[str | None, typer.Option(help="who asked, for the audit entry "
                                                "(default: $USER)")] = None,
) -> None:
    """Erase a person: their data in every CRM table and every checkpoint of their threads.
    Their leads stay, anonymised, so the metrics still count them; the erasure is audited."""
    import asyncio

    from leadflow.checkpoint import open_checkpointer
    from leadflow.clock import SystemClock
    from leadflow.tools.crm import CrmStore
    from leadflow.tools.erasure import forget as erase_person
    from leadflow.tools.erasure import is_lead_id

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


def _summary(report: object) -> str:
    from leadflow.tools.erasure import ErasureReport

    assert isinstance(report, ErasureReport)
    leads = ", ".join(report.lead_ids) or "no lead (a thread only)"
    return (f"erased: {leads}; {report.threads} checkpointed thread(s) deleted, "
            f"{sum(report.rows.values())} CRM row(s) anonymised; audit entry "
            f"{report.erasure_id}")


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


app.add_typer(retention_app, name="retention")
