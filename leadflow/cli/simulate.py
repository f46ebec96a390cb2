"""`leadflow simulate`: a simulated market into an empty CRM, through the real graph, with
simulated reps playing the follow-up (docs/simulator.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadflow.cli.access import fail, ready
from leadflow.cli.app import app
from leadflow.cli.terminal import console
from leadflow.settings import Settings

if TYPE_CHECKING:
    from leadflow.sim.run import SimReport

TIERS = ("hot", "warm", "cold", "unqualified", "—")


@app.command()
def simulate(
    days: Annotated[int, typer.Option(min=1, help="simulated days of inbound leads")] = 60,
    leads_per_day: Annotated[int, typer.Option(min=1, help="average leads a day (weekdays "
                                                           "get more than weekends)")] = 40,
    seed: Annotated[int, typer.Option(help="the run's seed: the same seed, the same run")] = 7,
    drain_days: Annotated[int, typer.Option(
        min=0, help="days the reps keep working after the last arrivals")] = 0,
    concurrency: Annotated[int, typer.Option(
        min=1, help="steps of different leads due within 4 h of each other run at once "
                    "(each at its own moment); runs are then not exactly reproducible")] = 1,
    market: Annotated[Path | None, typer.Option(
        help="the market's ground truth (default: leadflow/config/market.yaml)")] = None,
) -> None:
    """Simulate a market into the (empty) CRM of LEADFLOW_DATABASE_URL: inbound leads through
    the real graph, then reps contacting them, prospects replying, meetings, wins and losses."""
    import asyncio

    from leadflow.preflight import masked
    from leadflow.sim.market import load_market

    settings = ready(Settings.from_env())
    try:
        model = load_market(market)
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    console.print(f"simulating {days} days × ~{leads_per_day} leads (seed {seed}) into "
                  f"{masked(settings.database_url)}, model {settings.model}…", highlight=False,
                  soft_wrap=True)
    report = asyncio.run(_simulate(settings, model, seed, days, leads_per_day, drain_days,
                                   concurrency))
    summary(report)


async def _simulate(settings: Settings, market: object, seed: int, days: int,
                    leads_per_day: int, drain_days: int, concurrency: int) -> SimReport:
    import asyncio

    from leadflow.identity import thread_config, workflow_id_for
    from leadflow.runtime import open_runtime
    from leadflow.sim.market import Market
    from leadflow.sim.run import SimClock, Simulation
    from leadflow.tools.crm import Lead

    assert isinstance(market, Market)
    clock = SimClock(market.start_at())
    async with open_runtime(settings, clock=clock) as runtime:
        held = await asyncio.to_thread(runtime.tools.crm.count, Lead)
        if held:
            raise fail(f"the CRM already holds {held} leads: simulate writes a market into an "
                       "empty one (point LEADFLOW_DATABASE_URL, and LEADFLOW_CHECKPOINT_DB for "
                       "SQLite, at new files)", code=2)
        simulation = Simulation(runtime, clock, market, seed=seed, days=days,
                                leads_per_day=leads_per_day, drain_days=drain_days,
                                concurrency=concurrency)
        first = simulation.leads[0].item
        if (await runtime.graph.aget_state(thread_config(workflow_id_for(first)))).values:
            raise fail("the checkpoints already hold this seed's leads (an earlier run into "
                       "another CRM): point LEADFLOW_CHECKPOINT_DB at a new file too", code=2)
        return await simulation.run()


def summary(report: SimReport) -> None:
    """Leads by channel, tier and status; the funnel; conversion by tier; the time it took."""
    from leadflow.sim.run import STAGE_ORDER

    lives = report.lives
    n = len(lives)
    console.print(f"{n} leads from {report.sim_start:%Y-%m-%d} to {report.sim_end:%Y-%m-%d} "
                  f"in {report.seconds:.1f} s ({n / report.seconds if report.seconds else 0:.1f}"
                  " leads/s)", highlight=False)
    for title, key in (("channel", lambda life: life.lead.truth["channel"]),
                       ("tier", lambda life: life.tier or "—"),
                       ("status", lambda life: life.status or "—")):
        counts = Counter(key(life) for life in lives)
        table = Table(title=f"leads by {title}")
        for name in counts:
            table.add_column(name, justify="right")
        table.add_row(*(str(v) for v in counts.values()))
        console.print(table)
    events = report.events
    console.print("funnel: " + ", ".join(f"{k} {events.get(k, 0)}" for k in (
        "contacted", "replied", "meeting_booked", "closed_won", "closed_lost")), highlight=False)
    by_tier = Table(title="conversion by tier (of the tier's leads)")
    for column in ("tier", "leads", "routed", "touched", "replied", "meeting", "won", "lost",
                   "meet%", "won%"):
        by_tier.add_column(column, justify="right")
    for tier in TIERS:
        group = [life for life in lives if (life.tier or "—") == tier]
        if not group:
            continue
        reached = Counter(s for life in group for s in {*life.history, life.stage})
        routed = sum(STAGE_ORDER.index(life.stage) >= STAGE_ORDER.index("routed")
                     for life in group)
        by_tier.add_row(tier, str(len(group)), str(routed),
                        str(reached["contacted"]), str(reached["replied"]),
                        str(reached["meeting_booked"]), str(reached["closed_won"]),
                        str(reached["closed_lost"]),
                        f"{100 * reached['meeting_booked'] / len(group):.1f}",
                        f"{100 * reached['closed_won'] / len(group):.1f}")
    console.print(by_tier)
    actions = report.actions
    console.print("follow-up: " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                            for k, v in sorted(actions.items())),
                  highlight=False)
    busy = report.busy
    console.print("time: " + ", ".join(f"{name} {busy[key]:.1f} s" for key, name in (
        ("arrive", "arrivals through the graph"), ("event", "engagement events"),
        ("sweep", "sweeps"), ("review", "reviews"), ("reassign", "reassignments"))
        if busy.get(key)) + (" (summed over the leads run at once)"
                             if report.concurrency > 1 else ""), highlight=False)
    console.print("ground truth → the CRM's sim_truth table (docs/simulator.md)")

