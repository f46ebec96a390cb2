"""`leadflow whatif`: the last days of stored leads replayed through a changed configuration
in a scratch CRM, and what would have changed (docs/whatif.md). The live CRM is only read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from leadflow.cli.access import fail, ready
from leadflow.cli.app import app
from leadflow.cli.terminal import console, print_json_verbatim
from leadflow.settings import Settings


@app.command()
def whatif(
    config: Annotated[Path, typer.Option(
        "--config", help="a directory of changed config files (icp.yaml, reps.yaml, "
                         "workflow.yaml, models.yaml, scoring.yaml); missing ones: the "
                         "current")],
    since: Annotated[str, typer.Option(
        help="replay the leads of this long before the newest one: 30d, 2w, 36h")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="print the comparison as JSON")] = False,
    show: Annotated[int, typer.Option(min=0, help="routing changes listed (all with "
                                                  "--json)")] = 20,
) -> None:
    """Replay stored leads through a changed configuration (in a scratch database, up to
    routing) and report tier changes, routing changes, queue volumes, rep loads and the
    expected conversions under the promoted model. Exit 0 whatever changed."""
    import asyncio
    import tempfile

    from leadflow.scoring.features import parse_horizon
    from leadflow.whatif.config import current_config, load_changed
    from leadflow.whatif.history import promoted_model, read_only_engine
    from leadflow.whatif.replay import run_replay
    from leadflow.whatif.report import compare, load_scorer

    try:
        days = parse_horizon(since)
    except ValueError as exc:
        raise fail(f"--since: {exc}", code=2) from None
    try:
        changed = load_changed(config)
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    settings = ready(Settings.from_env())
    if not as_json:
        console.print(f"replaying the last {since} of leads with {', '.join(changed.files)} "
                      f"from {config} (model {settings.model})…", highlight=False)
    with tempfile.TemporaryDirectory(prefix="leadflow-whatif-") as scratch:
        try:
            replay = asyncio.run(run_replay(settings, changed, days, Path(scratch)))
        except ValueError as exc:
            raise fail(str(exc), code=2) from None
    if replay is None:
        raise fail("the CRM holds no leads to replay", code=2)
    live = read_only_engine(settings.database_url)
    try:
        scorer = load_scorer(promoted_model(live))
    finally:
        live.dispose()
    result = compare(replay, current_config(), scorer)
    if as_json:
        print_json_verbatim(result)
        return
    render(result, show)


def render(result: dict[str, Any], show: int) -> None:
    """The comparison as Rich tables."""
    window = result["window"]
    console.print(f"{window['leads']} leads from {window['start'][:16]} to "
                  f"{window['end'][:16]} replayed in {result['seconds']} s, stopped after "
                  f"routing: {result['tier_changes']} tier changes, "
                  f"{result['routing_changes']} routing changes", highlight=False)
    for note in result["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    tiers = sorted({c["before"] for c in result["tier_matrix"]}
                   | {c["after"] for c in result["tier_matrix"]})
    cells = {(c["before"], c["after"]): c["leads"] for c in result["tier_matrix"]}
    matrix = Table(title="tiers: before (rows) → after (columns)", box=box.SIMPLE)
    matrix.add_column("before")
    for tier in tiers:
        matrix.add_column(tier, justify="right")
    for before in tiers:
        matrix.add_row(before, *(str(cells.get((before, a), "")) for a in tiers))
    console.print(matrix)
    for title, key in (("queue volumes (the window's leads)", "queue_volumes"),
                       ("rep loads (the window's leads routed to each)", "rep_loads")):
        table = Table(title=title, box=box.SIMPLE)
        for column in ("", "before", "after", "change"):
            table.add_column(column, justify="right" if column else "left")
        for row in result[key]:
            delta = row["after"] - row["before"]
            table.add_row(row["name"], str(row["before"]), str(row["after"]),
                          f"{delta:+d}" if delta else "")
        console.print(table)
    if result["routes"] and show:
        routes = Table(title=f"routing changes ({min(show, len(result['routes']))} of "
                             f"{len(result['routes'])})", box=box.SIMPLE)
        for column in ("lead", "arrived", "tier", "before", "after"):
            routes.add_column(column)
        for row in result["routes"][:show]:
            tier = row["tier_before"] if row["tier_before"] == row["tier_after"] else (
                f"{row['tier_before']} → {row['tier_after']}")
            routes.add_row(row["lead_id"], row["arrived_at"][:16], str(tier),
                           str(row["route_before"]), str(row["route_after"]))
        console.print(routes)
    expected = result["expected_conversions"]
    if expected["model_version"] is None:
        console.print("expected conversions: no model (none promoted)", highlight=False)
    else:
        console.print(f"expected conversions (model v{expected['model_version']}): "
                      f"{expected['before']:.1f} before → {expected['after']:.1f} after "
                      f"({expected['scored_before']} → {expected['scored_after']} leads "
                      "scored)", highlight=False)
    if result["missing_items"] or result["errors"]:
        console.print(f"[yellow]not replayed:[/yellow] {len(result['missing_items'])} leads "
                      f"without a stored item, {len(result['errors'])} ended in an error",
                      highlight=False)
