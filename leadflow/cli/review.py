"""`leadflow review`: leads paused for a person, and their decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli.access import crm_reader, with_runtime
from leadflow.cli.app import app
from leadflow.cli.terminal import console, err, print_json_verbatim, visible
from leadflow.settings import current_user

if TYPE_CHECKING:
    from leadflow.runtime import Runtime


review_app = typer.Typer(help="Manual review: leads paused for a person.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Leads waiting in the manual-review queue."""
    table = Table(title="manual review")
    for col in ("lead", "reason", "since"):
        table.add_column(col, overflow="fold")
    for row in crm_reader().queue_items("manual_review", limit):
        table.add_row(visible(row["lead_id"]), visible(row["reason"]), str(row["created_at"]))
    console.print(table)


@review_app.command("show")
def review_show(lead_id: str) -> None:
    """The review request a paused lead is waiting on (question, options, evidence)."""
    import asyncio

    from leadflow.identity import thread_config
    from leadflow.review import pending_review

    async def show(runtime: Runtime) -> Any:
        return pending_review(await runtime.graph.aget_state(thread_config(lead_id)))

    request = asyncio.run(with_runtime(show))
    if request is None:
        err.print(f"[red]error:[/red] {escape(lead_id)} is not waiting for review")
        raise typer.Exit(code=1)
    print_json_verbatim(request)


@review_app.command("decide")
def review_decide(
    lead_id: str,
    approve: Annotated[bool, typer.Option("--approve", help="continue with the data there is")]
    = False,
    reject: Annotated[bool, typer.Option("--reject", help="not a lead: marketing queue")] =
    False,
    set_tier: Annotated[str | None, typer.Option(help="hot|warm|cold|unqualified, then route")]
    = None,
    assign: Annotated[str | None, typer.Option(help="rep id to assign the lead to")] = None,
    reviewer: Annotated[str, typer.Option(help="who decides")] = current_user(),
    note: Annotated[str, typer.Option(help="why")] = "",
) -> None:
    """Resume a paused lead with a decision."""
    import asyncio

    from leadflow.review import ReviewDecision, decide_review

    chosen = [a for a, on in (("approve", approve), ("reject", reject),
                              ("set_tier", set_tier), ("assign", assign)) if on]
    if len(chosen) != 1:
        raise typer.BadParameter("choose exactly one of --approve, --reject, --set-tier, "
                                 "--assign")
    try:
        decision = ReviewDecision(action=chosen[0], tier=set_tier, rep_id=assign,  # type: ignore[arg-type]
                                  reviewer=reviewer, note=note)

        async def resume(runtime: Runtime) -> Any:
            return await decide_review(runtime.graph, runtime.tools, lead_id, decision,
                                       runtime.context)

        outcome = asyncio.run(with_runtime(resume))
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"{lead_id}: {outcome['status']} "
                  f"(tier {(outcome.get('bant') or {}).get('tier')}, "
                  f"rep {(outcome.get('assignment') or {}).get('rep_id')})")
