"""`leadflow eval`: run a labelled dataset through the graph, compare two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadflow.cli.app import app
from leadflow.cli.options import FrameworkOption
from leadflow.cli.terminal import console, err
from leadflow.settings import RULES

eval_app = typer.Typer(help="Eval suite: run a labelled dataset, compare two runs.",
                       invoke_without_command=True)
app.add_typer(eval_app, name="eval")


@eval_app.callback()
def eval_run(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="rules or provider:model")] = RULES,
    prompt_version: Annotated[str | None, typer.Option(
        help="prompt file version (default: LEADFLOW_PROMPT_VERSION, else models.yaml's)")] = None,
    dataset: Annotated[str, typer.Option(help="name in evals/datasets or a .jsonl path")] =
    "leads",
    concurrency: Annotated[int, typer.Option(min=1)] = 4,
    out: Annotated[Path, typer.Option(help="where run records and reports go")] =
    Path("evals/reports"),
    judge_model: Annotated[str | None, typer.Option(
        help="provider:model grading the chosen outreach drafts (default "
             "LEADFLOW_EVAL_JUDGE_MODEL; unset or rules: no judge)")] = None,
    framework: FrameworkOption = None,
) -> None:
    """Run the graph over a labelled dataset; write a run record and reports."""
    import asyncio

    if ctx.invoked_subcommand is not None:
        return
    from leadflow.evals import langsmith_bridge
    from leadflow.evals.judge import resolve_judge_model
    from leadflow.evals.report import save_run, scalar_names
    from leadflow.evals.runner import run_eval
    from leadflow.preflight import PreflightError, check_models

    try:
        judge = resolve_judge_model(judge_model)
    except ValueError as exc:
        err.print(f"[red]error:[/red] judge model: {exc}")
        raise typer.Exit(code=2) from exc
    try:
        check_models({model, *([judge] if judge else [])})
    except PreflightError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    if langsmith_bridge.enabled():
        console.print("LANGSMITH_API_KEY set: running the experiment through LangSmith")
        asyncio.run(langsmith_bridge.run_on_langsmith(
            dataset, model=model, prompt_version=prompt_version, concurrency=concurrency,
            framework=framework))

    try:
        record = asyncio.run(run_eval(dataset, model=model, prompt_version=prompt_version,
                                      concurrency=concurrency, judge_model=judge,
                                      framework=framework))
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    paths = save_run(record, out)
    table = Table(title=f"{record['run_id']} ({record['metrics']['leads']} leads)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in scalar_names(record["metrics"]):
        value = record["metrics"].get(name)
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    if record.get("judge"):
        console.print(f"outreach judge {judge}: {record['judge']['graded']} drafts graded, "
                      f"{record['judge']['failed']} failed")
    console.print(table)
    console.print(f"record → {paths['json']}\nreports → {paths['md']}, {paths['html']}")


@eval_app.command("compare")
def eval_compare(
    run_a: str, run_b: str,
    out: Annotated[Path, typer.Option(help="where run records are")] = Path("evals/reports"),
) -> None:
    """Per-metric deltas between two runs and the leads whose outcome changed."""
    from leadflow.evals.report import compare, load_run

    try:
        diff = compare(load_run(run_a, out), load_run(run_b, out))
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    table = Table(title=f"{diff['a']} → {diff['b']}")
    for col in ("metric", "A", "B", "delta", ""):
        table.add_column(col)
    for name, d in diff["metrics"].items():
        mark = {"better": "[green]better[/green]", "worse": "[red]worse[/red]"}.get(
            d["verdict"], "")
        table.add_row(name, f"{d['a']:.4g}", f"{d['b']:.4g}", f"{d['delta']:+.4g}", mark)
    console.print(table)
    changed = Table(title=f"{len(diff['changed_leads'])} leads changed")
    for col in ("lead", "tier", "status", "expected", ""):
        changed.add_column(col)
    for c in diff["changed_leads"]:
        changed.add_row(c["id"], " → ".join(map(str, c["tier"])),
                        " → ".join(map(str, c["status"])), "/".join(c["expected_tier"]),
                        "fixed" if c["fixed"] else "broken" if c["broken"] else "")
    console.print(changed)
