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
from rich.highlighter import JSONHighlighter
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from leadflow.identity import thread_config
from leadflow.llm import batch_usage
from leadflow.runner import BATCH_DURABILITY, BatchRunner, Durability, open_checkpointer
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


def _escape_char(ch: str, json_style: bool) -> str:
    code = ord(ch)
    if json_style and code > 0xFFFF:  # JSON spells astral code points as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    if json_style or code > 0xFF:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return f"\\x{code:02x}"


def visible(value: object) -> Text:
    """Stored text for a table cell, shown as stored: rich markup ('[red]') stays literal,
    and control/format characters (ESC, BEL, U+202E …) show as escapes ('\\x1b', '\\u202e')
    instead of acting on the terminal."""
    text = "" if value is None else str(value)
    return Text("".join(ch if ch.isprintable() or ch == "\n" else _escape_char(ch, False)
                        for ch in text))


def print_json_verbatim(data: Any) -> None:
    """Pretty JSON in which control/format characters are \\u escapes (rich's print_json
    would re-emit U+202E or C1 controls raw): the output is valid JSON whose strings load
    back to the stored values exactly, and nothing in it acts on the terminal."""
    dumped = json.dumps(data, default=str, ensure_ascii=False, indent=2)
    dumped = "".join(ch if ch.isprintable() or ch in " \n" else _escape_char(ch, True)
                     for ch in dumped)
    console.print(JSONHighlighter()(dumped), soft_wrap=True)


def _load_items(paths: list[Path]) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    bad = 0
    for path in paths:
        try:
            items.extend(read_items(path))
        except UnreadableFile as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
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
    async with open_checkpointer(settings) as saver:
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
    distributed: Annotated[bool, typer.Option(
        help="send the items to `leadflow worker`s (Celery) instead of processing here")] = False,
    wait: Annotated[bool, typer.Option(help="with --distributed: wait for the workers")] = True,
) -> None:
    """Process a batch of inbound items; re-running the same batch resumes it."""
    if durability not in ("sync", "async", "exit"):
        raise typer.BadParameter("durability must be sync, async or exit")
    if rpm is not None:
        os.environ["LEADFLOW_LLM_RPM"] = str(rpm)
    settings = Settings.from_env()
    items, bad_files = _load_items(input)
    if distributed:
        from leadflow.worker import enqueue

        ids = enqueue(items)
        console.print(f"sent {len(ids)} items to the workers ({len(set(ids))} leads)")
        if not wait:
            return
        _await_workers(set(ids), progress)
    _summary(asyncio.run(
        _run_batch(settings, items, out, concurrency, durability, progress)  # type: ignore[arg-type]
    ))
    if out:
        console.print(f"outcomes → {out}")
    if bad_files:
        raise typer.Exit(code=1)


def _await_workers(ids: set[str], show_progress: bool) -> None:
    """Until every lead sent is settled by a worker (its intake row resolved)."""
    from leadflow.tools.crm import INTAKE

    crm = _crm()
    with Progress(TextColumn("[bold]workers"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=not show_progress) as bar:
        task = bar.add_task("", total=len(ids))
        while True:
            pending = ids & {row["lead_id"] for row in crm.queue_items(INTAKE, 10_000_000)}
            bar.update(task, completed=len(ids) - len(pending))
            if not pending:
                break
            time.sleep(0.5)
    crm.close()


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
        table.add_row(visible(lead["id"]), visible(lead.get("email_key") or "—"),
                      visible((record.get("company") or {}).get("name") or "—"),
                      lead.get("tier") or "—", str(lead.get("bant_total") or "—"),
                      lead.get("status") or "—", visible((lead.get("status_reason") or "")[:60]))
    console.print(table)


@leads_app.command("show")
def leads_show(lead_id: str) -> None:
    """Show one lead's outcome record and message log as JSON."""
    crm = _crm()
    lead = crm.get_lead(lead_id)
    if lead is None:
        err.print(f"[red]error:[/red] no lead {escape(lead_id)}")
        raise typer.Exit(code=1)
    body = lead.get("outcome") or {"lead_id": lead_id, "status": lead.get("status"),
                                   "record": lead.get("record")}
    body = {**body, "messages": crm.messages_for(lead_id),
            "assignment_audit": (crm.get_assignment(lead_id) or {}).get("audit")}
    print_json_verbatim(body)


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
        table.add_row(visible(row["lead_id"]), visible(row["reason"]), str(row["created_at"]))
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
    from leadflow.context import LeadflowContext
    from leadflow.graph import build_graph
    from leadflow.graph.build import default_agents
    from leadflow.graph.workflow import load_workflow
    from leadflow.retry import retry_parked
    from leadflow.toolbox import Toolbox

    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    async with open_checkpointer(settings) as saver:
        graph = build_graph(saver, toolbox=tools)
        return await retry_parked(graph, tools, default_agents(load_workflow()),
                                  LeadflowContext(model=settings.model), limit)


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
        table.add_row(visible(row["lead_id"]), visible(row["reason"]), str(row["created_at"]))
    console.print(table)


async def _with_graph(fn: Any) -> Any:
    from leadflow.graph import build_graph
    from leadflow.toolbox import Toolbox

    settings = Settings.from_env()
    tools = Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
    async with open_checkpointer(settings) as saver:
        return await fn(build_graph(saver, toolbox=tools), tools)


@review_app.command("show")
def review_show(lead_id: str) -> None:
    """The review request a paused lead is waiting on (question, options, evidence)."""
    from leadflow.review import pending_review

    async def show(graph: Any, tools: Any) -> Any:
        return pending_review(await graph.aget_state(thread_config(lead_id)))

    request = asyncio.run(_with_graph(show))
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
    from leadflow.clock import parse_datetime
    from leadflow.followup import sweep

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
    judge_model: Annotated[str | None, typer.Option(
        help="provider:model grading the chosen outreach drafts (default "
             "LEADFLOW_EVAL_JUDGE_MODEL; unset or rules: no judge)")] = None,
) -> None:
    """Run the graph over a labelled dataset; write a run record and reports."""
    if ctx.invoked_subcommand is not None:
        return
    from leadflow.evals import langsmith_bridge
    from leadflow.evals.judge import resolve_judge_model
    from leadflow.evals.report import save_run, scalar_names
    from leadflow.evals.runner import run_eval

    try:
        judge = resolve_judge_model(judge_model)
    except ValueError as exc:
        err.print(f"[red]error:[/red] judge model: {exc}")
        raise typer.Exit(code=2) from exc
    if langsmith_bridge.enabled():
        console.print("LANGSMITH_API_KEY set: running the experiment through LangSmith")
        asyncio.run(langsmith_bridge.run_on_langsmith(
            dataset, model=model, prompt_version=prompt_version, concurrency=concurrency))

    try:
        record = asyncio.run(run_eval(dataset, model=model, prompt_version=prompt_version,
                                      concurrency=concurrency, judge_model=judge))
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


db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate LEADFLOW_DATABASE_URL to the latest schema (CRM, and checkpoints on PostgreSQL)."""
    from leadflow.db import head_revision, is_postgres
    from leadflow.tools.crm import CrmStore

    settings = Settings.from_env()
    crm = CrmStore(settings.database_url)  # opening migrates
    crm.close()
    if is_postgres(settings.database_url):  # the checkpointer's tables live there too
        async def setup_checkpoints() -> None:
            async with open_checkpointer(settings):
                pass
        asyncio.run(setup_checkpoints())
    console.print(f"CRM schema: {crm.migrated_from or 'empty'} → {head_revision()} (head)")


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and the latest one; exit 1 when behind."""
    from sqlalchemy import create_engine

    from leadflow.db import current_revision, head_revision, sqlalchemy_url

    engine = create_engine(sqlalchemy_url(Settings.from_env().database_url))
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    finally:
        engine.dispose()
    console.print(f"current: {current or 'none'}\nhead: {head_revision()}")
    if current != head_revision():
        raise typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """The HTTP API, the LangServe-style /graph routes and the dashboard (needs
    LEADFLOW_API_KEY)."""
    import uvicorn

    from leadflow.api import ApiSettings

    try:
        ApiSettings.from_env()
    except RuntimeError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    uvicorn.run("leadflow.api.asgi:app", host=host, port=port, workers=workers,
                proxy_headers=False, server_header=False)


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8050,
) -> None:
    """Only the sales-ops dashboard (SPEC §9 charts) over the configured CRM; no API key, so
    keep it on localhost — `leadflow serve` puts the same page behind the API key."""
    import uvicorn
    from sqlalchemy.engine import make_url

    from leadflow.dashboard import create_app

    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]warning:[/yellow] the dashboard has no authentication and "
                  f"listens on {host}")
    crm = make_url(Settings.from_env().database_url).render_as_string(hide_password=True)
    console.print(f"dashboard: http://{host}:{port}/dashboard  (CRM {crm})", highlight=False,
                  soft_wrap=True)
    uvicorn.run(create_app(), host=host, port=port, server_header=False)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="worker processes (prefork)")] = 1,
    name: Annotated[str | None, typer.Option(help="node name (default: leadflow-<pid>@host)")]
    = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
) -> None:
    """A Celery worker that processes leads sent by `run --distributed` or the API
    (broker: LEADFLOW_BROKER_URL; database: LEADFLOW_DATABASE_URL, PostgreSQL to share)."""
    from leadflow.worker import QUEUE, celery_app

    celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
                            "--pool=prefork", "-Q", QUEUE, "--without-gossip",
                            "--without-mingle", "-n", name or f"leadflow-{os.getpid()}@%h"])


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
