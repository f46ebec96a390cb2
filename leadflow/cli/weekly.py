"""`leadflow report weekly`: the week's review as Markdown and one self-contained HTML file
(docs/weekly.md). Registered on `report`'s sub-app, beside `report outreach`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadflow.cli.access import crm_store, fail
from leadflow.cli.report import report_app
from leadflow.cli.terminal import console


@report_app.command("weekly")
def report_weekly(
    week: Annotated[str | None, typer.Option(
        help="ISO week, e.g. 2026-W48 (default: the last complete week before --as-of)")] = None,
    out: Annotated[Path, typer.Option(help="directory for weekly-<week>.md and .html")] =
        Path("."),
    as_of: Annotated[str | None, typer.Option(
        help="the moment outcomes are read at, ISO-8601 (default: now; for a simulated "
             "CRM, its end)")] = None,
    weeks: Annotated[int | None, typer.Option(
        min=1, help="weeks in the trends (default: config/reports.yaml trend_weeks)")] = None,
) -> None:
    """The weekly review: funnel and its trend by source, campaign, tier and rep;
    bottlenecks; errors; SLA breaches by rep; conversion by tier against the tier cuts;
    model calibration and drift."""
    from leadflow.clock import SystemClock, parse_datetime
    from leadflow.config import icp
    from leadflow.reports.render import document, html, markdown
    from leadflow.reports.weekly import Week, load_rules, positive_events, weekly_report

    moment = parse_datetime(as_of) if as_of else SystemClock().now()
    if moment is None:
        raise fail(f"--as-of {as_of!r} is not an ISO time")
    try:
        chosen = Week.parse(week) if week else Week.last_complete(moment)
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    rules = load_rules()
    if weeks is not None:
        rules = rules.model_copy(update={"trend_weeks": weeks})
    crm = crm_store()
    with crm.engine.connect() as conn:
        report = weekly_report(conn, chosen, moment, icp(),
                               positive_events(), rules)
    sections = document(report)
    out.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out / f"weekly-{chosen.label}.md", out / f"weekly-{chosen.label}.html"
    md_path.write_text(markdown(sections), encoding="utf-8")
    html_path.write_text(html(sections, f"leadflow weekly review {chosen.label}"),
                         encoding="utf-8")
    f = report.funnel
    console.print(f"{chosen.label}: captured {f['captured']}, routed {f['routed']}, meeting "
                  f"{f['meeting']}, won {f['won']}", highlight=False)
    console.print(f"wrote {md_path} and {html_path}", highlight=False, soft_wrap=True)
