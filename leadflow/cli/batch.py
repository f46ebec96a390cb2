"""`leadflow run`, `demo` and `retry`: processing batches of inbound items."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.cli.access import crm_store, fail, load_items, ready
from leadflow.cli.app import app
from leadflow.cli.options import FrameworkOption
from leadflow.cli.terminal import console, err
from leadflow.settings import BATCH_DURABILITY, Durability, Settings, set_requests_per_minute


@dataclass
class BatchReport:
    outcomes: list[dict[str, Any]]
    runs: Counter[str]  # processed | resumed | already_done | error
    seconds: float
    speed_to_lead: list[float]  # arrival → rep, for every lead in the CRM


async def run_batch(settings: Settings, items: list[dict[str, Any]], out: Path | None,
                    concurrency: int, durability: Durability,
                    show_progress: bool) -> BatchReport:
    import asyncio

    from leadflow.cli.progress import BatchProgress
    from leadflow.runtime import open_runtime

    how_counts: Counter[str] = Counter()
    started = time.perf_counter()
    async with open_runtime(ready(settings), durability=durability) as runtime:
        with BatchProgress(len(items), console, enabled=show_progress) as progress:

            def done(outcome: dict[str, Any], how: str) -> None:
                how_counts[how] += 1
                progress.advance(str(outcome["status"]))

            outcomes = await runtime.runner.run(items, out=out, concurrency=concurrency,
                                                on_done=done)
        seconds = time.perf_counter() - started
        speeds = await asyncio.to_thread(runtime.tools.crm.speed_to_lead_seconds)
    return BatchReport(outcomes, how_counts, seconds, speeds)


def _summary(report: BatchReport) -> None:
    import statistics

    from leadflow.llm import batch_usage

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
    if line := fallback_line(outcomes):
        err.print(f"[yellow]warning:[/yellow] {line}", highlight=False)
    console.print("runs: " + ", ".join(f"{k} {v}" for k, v in sorted(report.runs.items())))


FALLBACK_WHY = {"llm_error": "the call failed", "circuit_open": "the circuit breaker was open",
                "llm_invalid_output": "the output stayed invalid"}


def fallback_line(outcomes: list[dict[str, Any]]) -> str:
    """How many leads the configured LLM could not decide (the rules did), and why."""
    fell = [o for o in outcomes if "llm_fallback" in (o.get("flags") or [])]
    if not fell:
        return ""
    why = Counter(f for o in fell for f in o.get("flags") or [] if f in FALLBACK_WHY)
    notes = ((m.get("payload") or {}).get("processing_notes") or ""
             for o in fell for m in o.get("messages") or [])
    first = next((n for n in notes if "rules used" in n), "")
    reason = first[first.find("LLM "):first.find("; rules used")] if "LLM " in first else first
    return (f"{len(fell)} of {len(outcomes)} leads fell back to the rules because the LLM "
            f"could not decide ("
            + ", ".join(f"{FALLBACK_WHY[k]}: {n}" for k, n in why.most_common())
            + (f"; e.g. {reason[:200]}" if reason else "")
            + "); see `leadflow queues` (retry_later) and `leadflow retry`")


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
    framework: FrameworkOption = None,  # applied by the option (workers use their own env)
) -> None:
    """Process a batch of inbound items; re-running the same batch resumes it."""
    import asyncio

    if durability not in ("sync", "async", "exit"):
        raise typer.BadParameter("durability must be sync, async or exit")
    console.print(f"reading {', '.join(str(p) for p in input)}…", highlight=False, soft_wrap=True)
    if rpm is not None:
        set_requests_per_minute(rpm)
    settings = Settings.from_env()
    items, bad_files = load_items(input)
    if not items:  # the files' own lines said why; --out is left as it was
        raise typer.Exit(code=1) if bad_files else fail("no items to process")
    if distributed:
        from leadflow.worker import enqueue

        ids = enqueue(items)
        console.print(f"sent {len(ids)} items to the workers ({len(set(ids))} leads)")
        if not wait:
            return
        _await_workers(set(ids), progress)
    from leadflow.preflight import masked

    partial = _partial_out(out, input)
    console.print(f"{len(items)} item{'s' if len(items) != 1 else ''}; model {settings.model}, "
                  f"CRM {masked(settings.database_url)}", highlight=False, soft_wrap=True)
    import os

    try:
        report = asyncio.run(
            run_batch(settings, items, partial, concurrency, durability, progress)  # type: ignore[arg-type]
        )
    except BaseException:  # a misconfiguration found at start-up, Ctrl-C: no empty leftover
        if partial and partial != out and partial.exists() and not partial.stat().st_size:
            partial.unlink()
        raise
    if out and partial and partial != out:
        os.replace(partial, out)
    _summary(report)
    if out:
        console.print(f"outcomes → {out}", highlight=False)
    else:
        first = report.outcomes[0]["lead_id"] if report.outcomes else "LEAD-…"
        console.print(f"outcomes are in the CRM ({masked(settings.database_url)}): `leadflow leads "
                      f"list` lists them, `leadflow leads show {first}` shows one; the same "
                      "command with --out FILE writes them as JSONL (read back, not re-run)",
                      highlight=False, soft_wrap=True)
    if bad_files:
        raise typer.Exit(code=1)


def _partial_out(out: Path | None, inputs: list[Path]) -> Path | None:
    """Where the outcomes are written while the batch runs: `OUT.partial` beside --out,
    renamed over it at the end, so a typo in -i, a crash or Ctrl-C never truncates an
    existing --out. A device or pipe (/dev/stdout) is written directly."""
    if out is None:
        return None
    if out.is_dir():
        raise fail(f"--out {out} is a directory; give a file name")
    if out.exists() and not out.is_file():
        return out
    if any(p.exists() and out.exists() and p.samefile(out) for p in inputs):
        raise fail(f"--out {out} is also an input (-i): it would be overwritten")
    partial = out.with_name(out.name + ".partial")
    try:
        partial.open("w", encoding="utf-8").close()
    except OSError as exc:
        raise fail(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return partial


def _await_workers(ids: set[str], show_progress: bool) -> None:
    """Until every lead sent is settled by a worker (its intake row resolved)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from leadflow.tools.crm import INTAKE

    crm = crm_store()
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
    from importlib import resources

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
    import asyncio

    if home.exists() and not keep:
        shutil.rmtree(home)
    settings = Settings.local(home)
    home.mkdir(parents=True, exist_ok=True)
    items, _ = load_items(bundled_samples())
    console.print(f"[bold]leadflow demo[/bold]: {len(items)} sample leads, model=rules, "
                  f"CRM {settings.database_url}")
    out = home / "outcomes.jsonl"
    report = asyncio.run(run_batch(settings, items, out, 1, BATCH_DURABILITY, True))
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
    console.print(f"outcomes → {out}", soft_wrap=True, highlight=False, markup=False)
    for line in demo_hints(home, outcomes):
        console.print(line, soft_wrap=True, highlight=False, markup=False)


def leadflow_command() -> str:
    """How to start leadflow again from this directory, the way this process was started:
    `.venv/bin/leadflow` after `make demo`, `leadflow` when that is what PATH finds."""
    import shlex
    import sys

    def here(path: Path) -> str:
        if path.is_absolute() and path.resolve().is_relative_to(Path.cwd().resolve()):
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        return str(path)

    script = Path(sys.argv[0])
    if script.name == "leadflow" and script.is_file():
        found = shutil.which("leadflow")
        if script.is_absolute() and found and Path(found).resolve() == script.resolve():
            return "leadflow"
        return shlex.quote(here(script))
    return f"{shlex.quote(here(Path(sys.executable)))} -m leadflow.cli"


def demo_hints(home: Path, outcomes: list[dict[str, Any]]) -> list[str]:
    """Commands to look at the demo's leads, runnable as printed from this directory: they
    point at the demo's CRM through LEADFLOW_HOME, or through the database variables when
    the environment or .env sets those (they would win over LEADFLOW_HOME)."""
    import shlex

    local = Settings.local(home)
    configured = Settings.from_env(home)
    if configured.database_url == f"sqlite:///{(home / 'crm.db').resolve()}" \
            and configured.checkpoint_path == local.checkpoint_path:
        where = f"LEADFLOW_HOME={shlex.quote(str(home))}"
    else:
        where = (f"LEADFLOW_DATABASE_URL={shlex.quote(local.database_url)} "
                 f"LEADFLOW_CHECKPOINT_DB={shlex.quote(str(local.checkpoint_path))}")
    command = f"  {where} {leadflow_command()}"
    routed = next((o["lead_id"] for o in outcomes if o.get("assignment")), None)
    paused = next((o["lead_id"] for o in outcomes if o["status"] == "manual_review"), None)
    return ["Look closer (run these from this directory; they read the demo's CRM):",
            f"{command} leads list",
            *([f"{command} explain {routed}", f"{command} leads show {routed}"] if routed else []),
            f"{command} queues",
            f"{command} review list",
            *([f"{command} review show {paused}"] if paused else [])]


@app.command()
def retry(
    limit: Annotated[int, typer.Option(min=1, help="queue items to look at")] = 500,
) -> None:
    """Ask the LLM again about leads it could not see (the retry_later queue)."""
    import asyncio

    settings = Settings.from_env()
    results = asyncio.run(_retry(settings, limit))
    table = Table(title=f"retry_later: {len(results)} items")
    for col in ("lead", "step", "result", "detail"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.lead_id, r.step, r.result, r.detail)
    console.print(table)
    from leadflow.llm import batch_usage

    usage = batch_usage([{"decisions": [r.as_decision() for r in results]}])
    if usage["calls"]:
        console.print(f"LLM: {int(usage['calls'])} calls ({int(usage['input_tokens'])} in, "
                      f"{int(usage['output_tokens'])} out), "
                      f"estimated cost ${usage['cost_usd']:.4f}")


async def _retry(settings: Settings, limit: int) -> list[Any]:
    from leadflow.graph.build import default_agents
    from leadflow.graph.workflow import load_workflow
    from leadflow.retry import retry_parked
    from leadflow.runtime import open_runtime

    async with open_runtime(ready(settings)) as runtime:
        return await retry_parked(runtime.graph, runtime.tools, default_agents(load_workflow()),
                                  runtime.context, limit)
