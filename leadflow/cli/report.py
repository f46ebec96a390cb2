"""`leadflow report`: reports over what happened after routing."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from leadflow.cli.access import crm_store
from leadflow.cli.app import app
from leadflow.cli.terminal import console, print_json_verbatim

report_app = typer.Typer(help="Reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("outreach")
def report_outreach(
    segment: Annotated[str | None, typer.Option(
        help="only this segment's posteriors and traffic (smb, mid_market, enterprise, "
             "unknown)")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="the numbers as one JSON object instead of tables")] = False,
) -> None:
    """The first-email styles: what followed each (A/B), the outreach bandit's posterior per
    segment (reply rate: mean, 90 % interval, outcomes n) and how traffic shifted by week."""
    from leadflow.agents.outreach import STYLES
    from leadflow.agents.style_choice import BanditSettings, posteriors, traffic_by_week
    from leadflow.config import icp

    crm = crm_store()
    rows = crm.outreach_results()
    counts = [r for r in crm.style_count_rows() if segment is None or r["segment"] == segment]
    settings = BanditSettings.from_outreach(icp().outreach)
    arms = posteriors(counts, STYLES, settings)
    traffic = traffic_by_week(counts, STYLES)
    if as_json:
        print_json_verbatim({"results": rows, "posteriors": arms, "traffic": traffic,
                             "bandit": settings.model_dump(mode="json")})
        return
    table = Table(title="first outreach by style (sent drafts)")
    for col in ("style", "sent", "replied+", "won", "lost", "reply rate", "win rate"):
        table.add_column(col, justify="right" if col != "style" else "left")
    for style in STYLES:
        mine = {r["engagement"]: r["leads"] for r in rows if r["style"] == style}
        sent = sum(mine.values())
        engaged = sum(mine.get(e, 0) for e in ("replied", "meeting_booked", "closed_won"))
        won = mine.get("closed_won", 0)
        lost = sum(r["lost"] for r in rows if r["style"] == style)
        table.add_row(style, str(sent), str(engaged), str(won), str(lost),
                      f"{engaged / sent:.0%}" if sent else "—",
                      f"{won / (won + lost):.0%}" if won + lost else "—")
    console.print(table)
    posterior = Table(title="bandit posterior of the reply rate, per segment "
                            f"(Beta prior {settings.prior[0]:g}/{settings.prior[1]:g}; "
                            "n = sent emails with an outcome)")
    for col in ("segment", "style", "sent", "n", "replies", "mean", "90% interval"):
        posterior.add_column(col, justify="left" if col in ("segment", "style") else "right")
    for seg, styles in arms.items():
        best = max(styles, key=lambda s: styles[s]["mean"])
        for style, arm in styles.items():
            posterior.add_row(seg, f"{style} *" if style == best else style, str(arm["sent"]),
                              str(arm["n"]), str(arm["replies"]), f"{arm['mean']:.2f}",
                              f"{arm['low']:.2f}–{arm['high']:.2f}")
    console.print(posterior if arms else "no first emails counted yet")
    shift = Table(title="traffic: share of first emails sent per style, by week of sending"
                        + (f" ({segment})" if segment else ""))
    for col in ("week", "sent", *STYLES):
        shift.add_column(col, justify="left" if col == "week" else "right")
    for week in traffic:
        shift.add_row(week["week"], str(week["sent"]),
                      *(f"{week['share'][s]:.0%}" for s in STYLES))
    if traffic:
        console.print(shift)
