"""`leadflow` command line (typer + rich): demo, run, leads, queues, graph."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadflow.llm import batch_usage
from leadflow.runner import BATCH_DURABILITY, BatchRunner, Durability, sqlite_checkpointer
from leadflow.settings import Settings
from leadflow.tools.ingest import UnreadableFile, read_items

if TYPE_CHECKING:
    from leadflow.tools.crm import CrmStore

app = typer.Typer(help="leadflow: multi-agent lead management on LangGraph.",
                  no_args_is_help=True, add_completion=False)
leads_app = typer.Typer(help="Look at leads in the CRM.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _load_items(paths: list[Path]) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    bad = 0
    for path in paths:
        try:
            items.extend(read_items(path))
        except UnreadableFile as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            bad += 1
    return items, bad


@dataclass
class BatchReport:
    outcomes: list[dict[str, Any]]
    runs: Counter[str]  # processed | resumed | already_done | error
    seconds: float
    speed_to_lead: list[float]  # arrival → rep, for every lead in the CRM


async def _run_batch(settings: Settings, items: list[dict[str, Any]], out: Path | None,
                     concurrency: int, durability: Durability,
                     show_progress: bool) -> BatchReport:
    from leadflow.graph import build_graph
    from leadflow.toolbox import Toolbox

    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    how_counts: Counter[str] = Counter()
    started = time.perf_counter()
    async with sqlite_checkpointer(settings.checkpoint_path) as saver:
        graph = build_graph(saver, toolbox=tools, timeout_scale=settings.timeout_scale)
        runner = BatchRunner(graph, tools, durability=durability,
                             context={"model": settings.model})
        with Progress(TextColumn("[bold]leads"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("{task.description}"), console=console,
                      disable=not show_progress, transient=False) as progress:
            task = progress.add_task("", total=len(items))

            def done(outcome: dict[str, Any], how: str) -> None:
                how_counts[how] += 1
                progress.update(task, advance=1, description=f"{outcome['status']}")

            outcomes = await runner.run(items, out=out, concurrency=concurrency, on_done=done)
    report = BatchReport(outcomes, how_counts, time.perf_counter() - started,
                         tools.crm.speed_to_lead_seconds())
    tools.crm.close()
    return report


def _summary(report: BatchReport) -> None:
    outcomes, seconds = report.outcomes, report.seconds
    statuses = Counter(o["status"] for o in outcomes)
    tiers = Counter((o.get("bant") or {}).get("tier") or "—" for o in outcomes)
    reps = Counter(o["assignment"]["rep_id"] for o in outcomes if o.get("assignment"))
    table = Table(title=f"{len(outcomes)} leads in {seconds:.2f} s "
                        f"({len(outcomes) / seconds if seconds else 0:.1f} leads/s)")
    table.add_column("status")
    table.add_column("leads", justify="right")
    for status, n in statuses.most_common():
        table.add_row(status, str(n))
    console.print(table)
    tier_table = Table(title="tiers")
    for name in ("hot", "warm", "cold", "unqualified", "—"):
        tier_table.add_column(name, justify="right")
    tier_table.add_row(*(str(tiers.get(n, 0)) for n in ("hot", "warm", "cold", "unqualified",
                                                        "—")))
    console.print(tier_table)
    if reps:
        rep_table = Table(title="assignments")
        rep_table.add_column("rep")
        rep_table.add_column("leads", justify="right")
        for rep, n in reps.most_common():
            rep_table.add_row(rep, str(n))
        console.print(rep_table)
    if report.speed_to_lead:
        speeds = sorted(report.speed_to_lead)
        p95 = speeds[min(len(speeds) - 1, round(0.95 * (len(speeds) - 1)))]
        console.print(f"speed to lead (arrival → rep): median {statistics.median(speeds):.3f} s, "
                      f"p95 {p95:.3f} s over {len(speeds)} assigned leads")
    usage = batch_usage(outcomes)
    if usage["calls"]:
        tokens = usage["input_tokens"] + usage["output_tokens"]
        console.print(f"LLM: {int(usage['calls'])} calls, {tokens / len(outcomes):.0f} tokens/lead "
                      f"({int(usage['input_tokens'])} in, {int(usage['output_tokens'])} out), "
                      f"estimated cost ${usage['cost_usd']:.4f}")
    console.print("runs: " + ", ".join(f"{k} {v}" for k, v in sorted(report.runs.items())))


@app.command()
def run(
    input: Annotated[list[Path], typer.Option("--input", "-i", help="JSONL, JSON, CSV, .eml or "
                                              "mbox files")],
    out: Annotated[Path | None, typer.Option(help="write outcome records (JSONL) here")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="leads processed at once")] = 1,
    durability: Annotated[str, typer.Option(help="checkpoint durability: sync|async|exit")] =
    BATCH_DURABILITY,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    rpm: Annotated[float | None, typer.Option(
        min=0, help="LLM requests per minute per model (0 = unlimited)")] = None,
) -> None:
    """Process a batch of inbound items; re-running the same batch resumes it."""
    if durability not in ("sync", "async", "exit"):
        raise typer.BadParameter("durability must be sync, async or exit")
    if rpm is not None:
        os.environ["LEADFLOW_LLM_RPM"] = str(rpm)
    settings = Settings.from_env()
    items, bad_files = _load_items(input)
    _summary(asyncio.run(
        _run_batch(settings, items, out, concurrency, durability, progress)  # type: ignore[arg-type]
    ))
    if out:
        console.print(f"outcomes → {out}")
    if bad_files:
        raise typer.Exit(code=1)


def bundled_samples() -> list[Path]:
    data = resources.files("leadflow.data")
    names = ["sample_leads.jsonl", "sample_events.csv", "sample_email_1.eml", "sample_email_2.eml"]
    return [Path(str(data.joinpath(n))) for n in names if data.joinpath(n).is_file()]


@app.command()
def demo(
    home: Annotated[Path, typer.Option(help="where the demo CRM and checkpoints live")] =
    Path(".leadflow/demo"),
    keep: Annotated[bool, typer.Option(help="keep the previous demo database")] = False,
) -> None:
    """Process the bundled sample leads offline (SQLite, rules model) and print a summary."""
    if home.exists() and not keep:
        shutil.rmtree(home)
    settings = Settings(model="rules", home=home, database_url=f"sqlite:///{home / 'crm.db'}",
                        checkpoint_path=home / "checkpoints.db", timeout_scale=1.0, kb_dir=None)
    home.mkdir(parents=True, exist_ok=True)
    items, _ = _load_items(bundled_samples())
    console.print(f"[bold]leadflow demo[/bold]: {len(items)} sample leads, model=rules, "
                  f"CRM {settings.database_url}")
    out = home / "outcomes.jsonl"
    report = asyncio.run(_run_batch(settings, items, out, 1, BATCH_DURABILITY, True))
    _summary(report)
    outcomes = report.outcomes
    examples = Table(title="examples")
    for col in ("lead", "contact", "company", "region/segment", "tier", "status", "rep"):
        examples.add_column(col, overflow="fold")
    for o in outcomes[:12]:
        contact, company = o.get("contact") or {}, o.get("company") or {}
        examples.add_row(
            o["lead_id"], contact.get("email") or contact.get("phone") or "—",
            company.get("name") or "—",
            f"{company.get('region', '—')}/{company.get('segment', '—')}",
            (o.get("bant") or {}).get("tier") or "—", o["status"],
            (o.get("assignment") or {}).get("rep_id") or "—")
    console.print(examples)
    console.print(f"outcomes → {out}   (try: LEADFLOW_HOME={home} leadflow leads list)")


def _crm() -> CrmStore:
    from leadflow.tools.crm import CrmStore

    return CrmStore(Settings.from_env().database_url)


@leads_app.command("list")
def leads_list(
    status: Annotated[str | None, typer.Option(help="filter by status")] = None,
    tier: Annotated[str | None, typer.Option(help="filter by tier")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """List leads, newest first."""
    table = Table()
    for col in ("lead", "email", "company", "tier", "total", "status", "reason"):
        table.add_column(col, overflow="fold")
    for lead in _crm().list_leads(status=status, tier=tier, limit=limit):
        record = lead.get("record") or {}
        table.add_row(lead["id"], lead.get("email_key") or "—",
                      (record.get("company") or {}).get("name") or "—", lead.get("tier") or "—",
                      str(lead.get("bant_total") or "—"), lead.get("status") or "—",
                      (lead.get("status_reason") or "")[:60])
    console.print(table)


@leads_app.command("show")
def leads_show(lead_id: str) -> None:
    """Show one lead's outcome record and message log as JSON."""
    crm = _crm()
    lead = crm.get_lead(lead_id)
    if lead is None:
        err.print(f"[red]error:[/red] no lead {lead_id}")
        raise typer.Exit(code=1)
    body = lead.get("outcome") or {"lead_id": lead_id, "status": lead.get("status"),
                                   "record": lead.get("record")}
    body = {**body, "messages": crm.messages_for(lead_id),
            "assignment_audit": (crm.get_assignment(lead_id) or {}).get("audit")}
    console.print_json(json.dumps(body, default=str, ensure_ascii=False))


@app.command()
def queues(
    name: Annotated[str | None, typer.Argument(help="show this queue's items")] = None,
) -> None:
    """Queue lengths (manual_review, nurture, marketing, retry_later) or one queue's items."""
    crm = _crm()
    if name is None:
        table = Table(title="queues")
        table.add_column("queue")
        table.add_column("open items", justify="right")
        for queue, n in crm.queue_counts().items():
            table.add_row(queue, str(n))
        console.print(table)
        return
    table = Table(title=name)
    for col in ("lead", "reason", "since"):
        table.add_column(col, overflow="fold")
    for row in crm.queue_items(name):
        table.add_row(row["lead_id"], row["reason"], str(row["created_at"]))
    console.print(table)


@app.command()
def retry(
    limit: Annotated[int, typer.Option(min=1, help="queue items to look at")] = 500,
) -> None:
    """Ask the LLM again about leads it could not see (the retry_later queue)."""
    settings = Settings.from_env()
    results = asyncio.run(_retry(settings, limit))
    table = Table(title=f"retry_later: {len(results)} items")
    for col in ("lead", "step", "result", "detail"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.lead_id, r.step, r.result, r.detail)
    console.print(table)


async def _retry(settings: Settings, limit: int) -> list[Any]:
    from leadflow.agents.base import RunConfig
    from leadflow.graph import build_graph
    from leadflow.graph.build import default_agents
    from leadflow.graph.workflow import load_workflow
    from leadflow.retry import retry_parked
    from leadflow.toolbox import Toolbox

    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    async with sqlite_checkpointer(settings.checkpoint_path) as saver:
        graph = build_graph(saver, toolbox=tools)
        return await retry_parked(graph, tools, default_agents(load_workflow()),
                                  RunConfig(model=settings.model), limit)


review_app = typer.Typer(help="Manual review: leads paused for a person.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Leads waiting in the manual-review queue."""
    table = Table(title="manual review")
    for col in ("lead", "reason", "since"):
        table.add_column(col, overflow="fold")
    for row in _crm().queue_items("manual_review", limit):
        table.add_row(row["lead_id"], row["reason"], str(row["created_at"]))
    console.print(table)


async def _with_graph(fn: Any) -> Any:
    from leadflow.graph import build_graph
    from leadflow.toolbox import Toolbox

    settings = Settings.from_env()
    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    async with sqlite_checkpointer(settings.checkpoint_path) as saver:
        return await fn(build_graph(saver, toolbox=tools), tools)


@review_app.command("show")
def review_show(lead_id: str) -> None:
    """The review request a paused lead is waiting on (question, options, evidence)."""
    from leadflow.review import pending_review

    async def show(graph: Any, tools: Any) -> Any:
        return pending_review(await graph.aget_state({"configurable": {"thread_id": lead_id}}))

    request = asyncio.run(_with_graph(show))
    if request is None:
        err.print(f"[red]error:[/red] {lead_id} is not waiting for review")
        raise typer.Exit(code=1)
    console.print_json(json.dumps(request, default=str, ensure_ascii=False))


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
    reviewer: Annotated[str, typer.Option(help="who decides")] = os.environ.get("USER", "cli"),
    note: Annotated[str, typer.Option(help="why")] = "",
) -> None:
    """Resume a paused lead with a decision."""
    from leadflow.review import ReviewDecision, decide_review

    chosen = [a for a, on in (("approve", approve), ("reject", reject),
                              ("set_tier", set_tier), ("assign", assign)) if on]
    if len(chosen) != 1:
        raise typer.BadParameter("choose exactly one of --approve, --reject, --set-tier, "
                                 "--assign")
    try:
        decision = ReviewDecision(action=chosen[0], tier=set_tier, rep_id=assign,  # type: ignore[arg-type]
                                  reviewer=reviewer, note=note)

        async def resume(graph: Any, tools: Any) -> Any:
            return await decide_review(graph, tools, lead_id, decision)

        outcome = asyncio.run(_with_graph(resume))
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"{lead_id}: {outcome['status']} "
                  f"(tier {(outcome.get('bant') or {}).get('tier')}, "
                  f"rep {(outcome.get('assignment') or {}).get('rep_id')})")


report_app = typer.Typer(help="Reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("outreach")
def report_outreach() -> None:
    """A/B of the first-email styles: how often each was chosen and what followed."""
    from leadflow.agents.outreach import STYLES

    rows = _crm().outreach_results()
    table = Table(title="first outreach by style (chosen drafts)")
    for col in ("style", "sent", "replied+", "won", "lost", "reply rate", "win rate"):
        table.add_column(col, justify="right" if col != "style" else "left")
    for style in STYLES:
        mine = {r["engagement"]: r["leads"] for r in rows if r["style"] == style}
        sent = sum(mine.values())
        engaged = sum(mine.get(e, 0) for e in ("replied", "meeting_booked", "closed_won"))
        won, lost = mine.get("closed_won", 0), mine.get("closed_lost", 0)
        table.add_row(style, str(sent), str(engaged), str(won), str(lost),
                      f"{engaged / sent:.0%}" if sent else "—",
                      f"{won / (won + lost):.0%}" if won + lost else "—")
    console.print(table)


followup_app = typer.Typer(help="Follow-up timers.", no_args_is_help=True)
app.add_typer(followup_app, name="followup")


@followup_app.command("sweep")
def followup_sweep(
    now: Annotated[str | None, typer.Option(help="ISO time to sweep at (default: now)")] = None,
) -> None:
    """Wake every waiting lead: reminders, 24 h escalations, out-of-office reassignment."""
    from leadflow.followup import sweep
    from leadflow.tools.crm import parse_datetime

    moment = parse_datetime(now) if now else None
    outcomes = asyncio.run(_with_graph(lambda graph, tools: sweep(graph, tools, moment)))
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
    from pydantic import ValidationError

    from leadflow.followup import Wake, wake_lead

    try:
        wake = Wake(event=kind, rep_id=rep, at=at)  # type: ignore[arg-type]
        outcome = asyncio.run(_with_graph(
            lambda graph, tools: wake_lead(graph, lead_id, wake, tools)))
    except ValidationError as exc:
        err.print(f"[red]error:[/red] {exc.errors()[0]['msg']} ({kind!r})")
        raise typer.Exit(code=1) from exc
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"{lead_id}: {outcome['status']} ({outcome.get('status_reason')})")


notify_app = typer.Typer(help="The notification outbox.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("deliver")
def notify_deliver(
    loop: Annotated[bool, typer.Option(help="keep delivering every --every seconds")] = False,
    every: Annotated[float, typer.Option(min=0.1)] = 5.0,
) -> None:
    """Deliver due notifications (console, webhook, SMTP), retrying failures with backoff."""
    from leadflow.toolbox import Toolbox
    from leadflow.tools.delivery import deliver_due

    settings = Settings.from_env()
    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    while True:
        report = asyncio.run(deliver_due(tools))
        console.print(f"delivered {report.delivered}, retrying {report.retried}, "
                      f"given up {report.failed}")
        for error in report.errors[:5]:
            err.print(f"  {error}", highlight=False)
        if not loop:
            break
        time.sleep(every)


eval_app = typer.Typer(help="Eval suite: run a labelled dataset, compare two runs.",
                       invoke_without_command=True)
app.add_typer(eval_app, name="eval")


@eval_app.callback()
def eval_run(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="rules or provider:model")] = "rules",
    prompt_version: Annotated[str, typer.Option(help="prompt file version")] = "v1",
    dataset: Annotated[str, typer.Option(help="name in evals/datasets or a .jsonl path")] =
    "leads",
    concurrency: Annotated[int, typer.Option(min=1)] = 4,
    out: Annotated[Path, typer.Option(help="where run records and reports go")] =
    Path("evals/reports"),
) -> None:
    """Run the graph over a labelled dataset; write a run record and reports."""
    if ctx.invoked_subcommand is not None:
        return
    from leadflow.evals import langsmith_bridge
    from leadflow.evals.report import SCALARS, save_run
    from leadflow.evals.runner import run_eval

    if langsmith_bridge.enabled():
        console.print("LANGSMITH_API_KEY set: running the experiment through LangSmith")
        asyncio.run(langsmith_bridge.run_on_langsmith(
            dataset, model=model, prompt_version=prompt_version, concurrency=concurrency))

    try:
        record = asyncio.run(run_eval(dataset, model=model, prompt_version=prompt_version,
                                      concurrency=concurrency))
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    paths = save_run(record, out)
    table = Table(title=f"{record['run_id']} ({record['metrics']['leads']} leads)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in SCALARS:
        value = record["metrics"].get(name)
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
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


README_GRAPH = re.compile(r"(<!-- graph:start -->\n```mermaid\n)(.*?)(\n```\n<!-- graph:end -->)",
                          re.DOTALL)


@app.command("graph")
def show_graph(
    readme: Annotated[Path | None, typer.Option(help="rewrite this README's graph block")] = None,
) -> None:
    """Print the compiled graph as a Mermaid diagram (or refresh the README's copy)."""
    from leadflow.graph import graph

    mermaid = graph.get_graph().draw_mermaid().strip()
    if readme is None:
        typer.echo(mermaid)
        return
    text = readme.read_text(encoding="utf-8")
    if not README_GRAPH.search(text):
        err.print(f"[red]error:[/red] {readme} has no <!-- graph:start --> block")
        raise typer.Exit(code=1)
    readme.write_text(README_GRAPH.sub(lambda m: m.group(1) + mermaid + m.group(3), text),
                      encoding="utf-8")


if __name__ == "__main__":
    app()
