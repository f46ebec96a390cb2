"""Distributed workers against the scripted LLM (200 ms a call): throughput with 1, 2 and 4
`leadflow worker` processes beside ideal linear scaling; arrival-to-assignment latency
(p50/p95) beside its floor; RSS growth of a worker process per 10,000 leads.

    python benchmarks/workers.py [--leads-per-worker 30] [--rounds 3] [--concurrency 1]
                                 [--latency-leads 300] [--memory-leads 2000]

Needs PostgreSQL (LEADFLOW_BENCH_POSTGRES_URL, default the local `test` database; a fresh
schema per phase, dropped afterwards) and Redis (LEADFLOW_BENCH_REDIS_URL, default DB 8; its
keys under a prefix of its own, LEADFLOW_BROKER_PREFIX, deleted afterwards: nothing else in
that database is touched).

- Throughput: N workers (each `--concurrency` prefork processes), warmed up, then `--rounds`
  bursts of N × leads-per-worker leads; leads/s = leads / (last intake item resolved − last
  sent), the median of the bursts.
- Latency: 4 workers, leads sent one by one at about half their measured throughput;
  arrival = the lead's intake record (written when it is sent), assignment = its CRM
  assignment to a rep. Few leads reach a rep with the scripted LLM's middling BANT answers,
  so the same measure up to any routing decision (a rep, or the nurture / marketing queue)
  is printed too. Floor = LLM calls before the decision × the LLM delay (percentile over
  the leads) + the rules time (the same percentile with LEADFLOW_MODEL=rules); the target
  is p95 < 2 s + the LLM time.
- Memory: one worker with one process, the LLM at 5 ms (memory does not depend on the
  delay), RSS sampled while it processes `--memory-leads` leads after a 200-lead warm-up;
  the least-squares slope of RSS over leads, times 10,000.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER = os.environ.get("LEADFLOW_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
PREFIX = f"lf-bench-{uuid.uuid4().hex[:12]}:"  # this run's keys only
os.environ["LEADFLOW_BROKER_URL"] = BROKER  # before leadflow.worker makes its Celery app
os.environ["LEADFLOW_BROKER_PREFIX"] = PREFIX

import psycopg  # noqa: E402
from sqlalchemy import select  # noqa: E402

from leadflow.data.synthetic import synthetic_leads  # noqa: E402
from leadflow.tools.crm import Assignment, CrmStore, Lead, QueueItem  # noqa: E402
from leadflow.worker import enqueue  # noqa: E402
from tests.redis_keys import BrokerKeys  # noqa: E402
from tests.scripted_llm import ScriptedLLM  # noqa: E402

PRE_ASSIGNMENT_STEPS = ("capture", "enrichment", "qualification", "routing")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema; its URL (search_path) for CRM and checkpoints."""
    schema = f"lf_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG}{'&' if '?' in PG else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


class Cluster:
    """`count` worker processes on one schema, each `--concurrency` prefork children."""

    def __init__(self, url: str, llm_url: str, model: str, count: int, concurrency: int,
                 logs: Path) -> None:
        self.url = url
        os.environ["LEADFLOW_DATABASE_URL"] = url  # enqueue() records intake here
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_MODEL")}
        env.update(LEADFLOW_DATABASE_URL=url, LEADFLOW_BROKER_URL=BROKER,
                   LEADFLOW_BROKER_PREFIX=PREFIX, LEADFLOW_MODEL=model,
                   LEADFLOW_HOME=str(logs), OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="bench",
                   LEADFLOW_LLM_TIMEOUT_S="30")
        logs.mkdir(parents=True, exist_ok=True)
        self.procs = [subprocess.Popen(
            [sys.executable, "-m", "leadflow.cli", "worker", "--concurrency", str(concurrency),
             "--loglevel", "WARNING", "--name", f"bench{n}-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=(logs / f"worker{n}.log").open("wb"),
            stderr=subprocess.STDOUT, start_new_session=True) for n in range(count)]
        self.crm = CrmStore(url)

    def open_intake(self) -> int:
        return self.crm.queue_counts()["intake"]

    def drain(self, timeout_s: float = 900) -> None:
        deadline = time.monotonic() + timeout_s
        while self.open_intake():
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError("workers stalled or died; see the worker logs")
            time.sleep(0.2)

    def run_burst(self, items: list[dict[str, Any]]) -> float:
        """Leads per second over a burst sent at once."""
        enqueue(items)
        self.drain()
        with self.crm.engine.connect() as conn:
            rows = conn.execute(select(QueueItem.created_at, QueueItem.resolved_at).where(
                QueueItem.queue == "intake", QueueItem.lead_id.in_(lead_ids(items)))).all()
        sent = max(r.created_at for r in rows)
        done = max(r.resolved_at for r in rows)
        return len(items) / (done - sent).total_seconds()

    def children_rss_kb(self) -> dict[int, int]:
        """RSS of each pool child (the processes that run the leads)."""
        parents = {p.pid for p in self.procs}
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) in parents:
                    pid = int(stat.parent.name)
                    status = (stat.parent / "status").read_text()
                    found[pid] = int(next(line.split()[1] for line in status.splitlines()
                                          if line.startswith("VmRSS:")))
            except (OSError, ValueError, IndexError, StopIteration):
                continue
        return found

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.crm.close()


def lead_ids(items: list[dict[str, Any]]) -> list[str]:
    from leadflow.identity import workflow_id_for

    return [workflow_id_for(item, None) for item in items]


def fresh(count: int, tag: str) -> list[dict[str, Any]]:
    """Distinct leads that arrive now (received_at is the sending time)."""
    items = synthetic_leads(count, seed=zlib.crc32(tag.encode()), prefix=tag)
    now = datetime.now(UTC).isoformat()
    for item in items:
        item["received_at"] = now
    return items


@contextmanager
def cluster(llm_url: str, model: str, count: int, concurrency: int,
            logs: Path) -> Iterator[Cluster]:
    with pg_schema() as url:
        workers = Cluster(url, llm_url, model, count, concurrency, logs)
        try:
            # warm-up: every pool child opens its toolbox, checkpointer and graph
            workers.run_burst(fresh(2 * count * concurrency, f"W{uuid.uuid4().hex[:4]}"))
            yield workers
        finally:
            workers.close()


def paced(workers: Cluster, items: list[dict[str, Any]], rate: float) -> None:
    """Send leads one by one, `rate` a second (each is recorded in intake as it is sent)."""
    started = time.monotonic()
    for n, item in enumerate(items):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
        enqueue([item])
    workers.drain()


def arrival_to_decision(workers: Cluster, items: list[dict[str, Any]]) -> list[
        tuple[float, int, str]]:
    """(seconds from the intake record to the routing decision, LLM calls before it, what
    was decided: `rep` for an assignment, else the queue) per lead the routing decided."""
    ids = lead_ids(items)
    with workers.crm.engine.connect() as conn:
        arrived = dict(conn.execute(select(QueueItem.lead_id, QueueItem.created_at).where(
            QueueItem.queue == "intake", QueueItem.lead_id.in_(ids))).all())
        decided = {row.lead_id: (row.assigned_at, "rep") for row in conn.execute(
            select(Assignment.lead_id, Assignment.assigned_at)
            .where(Assignment.lead_id.in_(ids), Assignment.kind == "rep"))}
        decided.update({row.lead_id: (row.created_at, row.queue) for row in conn.execute(
            select(QueueItem.lead_id, QueueItem.created_at, QueueItem.queue).where(
                QueueItem.queue.in_(("nurture", "marketing")), QueueItem.lead_id.in_(ids)))})
        outcomes: dict[str, Any] = dict(conn.execute(
            select(Lead.id, Lead.outcome).where(Lead.id.in_(list(decided)))).all())
    out = []
    for lead_id, (at, what) in decided.items():
        calls = sum(int((d.get("usage") or {}).get("calls") or 0)
                    for d in (outcomes.get(lead_id) or {}).get("decisions") or []
                    if d.get("step") in PRE_ASSIGNMENT_STEPS)
        out.append(((at - arrived[lead_id]).total_seconds(), calls, what))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def slope(points: list[tuple[float, float]]) -> float:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads-per-worker", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="bursts per worker count")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="prefork processes per worker")
    parser.add_argument("--latency-leads", type=int, default=300)
    parser.add_argument("--memory-leads", type=int, default=2000)
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--skip", default="", help="comma list of: throughput,latency,memory")
    parser.add_argument("--logs", type=Path, default=Path("/tmp/leadflow-bench-workers"))
    args = parser.parse_args()
    # a stopped benchmark still stops its workers and drops its schemas
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    skip = set(filter(None, args.skip.split(",")))
    delay = args.delay_ms / 1000
    rates: dict[int, float] = {}
    try:
        with ScriptedLLM(delay_ms=args.delay_ms) as llm:
            if "throughput" not in skip:
                for count in (1, 2, 4):
                    with cluster(llm.url, "openai:bench", count, args.concurrency,
                                 args.logs / f"n{count}") as workers:
                        leads = count * args.leads_per_worker
                        bursts = [workers.run_burst(fresh(leads, f"T{count}R{r}"))
                                  for r in range(args.rounds)]
                    rates[count] = statistics.median(bursts)
                    ratio = rates[count] / rates[1]
                    print(f"workers={count} (x{args.concurrency} processes) leads={args.rounds}"
                          f"x{leads} throughput={rates[count]:.2f} leads/s (median; "
                          f"{', '.join(f'{b:.2f}' for b in bursts)})  vs 1 worker={ratio:.2f}x"
                          f"  ideal={count:.2f}x", flush=True)
            if "latency" not in skip:
                latency(llm.url, args, rates, delay)
        if "memory" not in skip:
            memory(args)
    finally:
        BrokerKeys(BROKER, PREFIX).delete()
    if len(rates) == 3:
        print(f"workers: 4 workers = {rates[4] / rates[1]:.2f}x one worker "
              f"(target >= 3x, ideal 4x)")


def latency(llm_url: str, args: argparse.Namespace, rates: dict[int, float],
            delay: float) -> None:
    count = 4
    with cluster("", "rules", count, args.concurrency, args.logs / "rules") as workers:
        items = fresh(args.latency_leads, "RULES")
        paced(workers, items, rate=5.0)
        rules = arrival_to_decision(workers, items)
    with cluster(llm_url, "openai:bench", count, args.concurrency,
                 args.logs / "latency") as workers:
        # about half the cluster's throughput: latency, not queueing, is measured
        rate = 0.5 * rates.get(count, count * args.concurrency / (2.5 * delay + 0.1))
        items = fresh(args.latency_leads, "LAT")
        paced(workers, items, rate=rate)
        measured = arrival_to_decision(workers, items)
    print(f"latency: {len(items)} leads sent one by one at {rate:.1f}/s to {count} workers; "
          f"the rules time is the same measure with LEADFLOW_MODEL=rules", flush=True)
    for label, keep in (("arrival-to-assignment", {"rep"}),
                        ("arrival-to-routing-decision (assignment or queue)",
                         {"rep", "nurture", "marketing"})):
        seconds = [s for s, _, what in measured if what in keep]
        llm = [calls * delay for _, calls, what in measured if what in keep]
        base = [s for s, _, what in rules if what in keep]
        if not seconds or not base:
            continue
        print(f"{label}: n={len(seconds)}  p50={pct(seconds, 0.5):.3f} s "
              f"(floor {pct(llm, 0.5) + pct(base, 0.5):.3f} s = LLM {pct(llm, 0.5):.1f} s + "
              f"rules {pct(base, 0.5):.3f} s)  p95={pct(seconds, 0.95):.3f} s (floor "
              f"{pct(llm, 0.95) + pct(base, 0.95):.3f} s; target < 2 s + LLM time "
              f"{pct(llm, 0.95):.1f} s = {2 + pct(llm, 0.95):.1f} s)", flush=True)


def memory(args: argparse.Namespace) -> None:
    with ScriptedLLM(delay_ms=5) as fast, \
            cluster(fast.url, "openai:bench", 1, 1, args.logs / "memory") as workers:
        warm = fresh(200, "MWARM")
        workers.run_burst(warm)
        before = sum(workers.children_rss_kb().values())
        items = fresh(args.memory_leads, "MEM")
        enqueue(items)
        points: list[tuple[float, float]] = []
        while (left := workers.open_intake()) > 0:
            points.append((args.memory_leads - left, sum(workers.children_rss_kb().values())))
            time.sleep(1.0)
        after = sum(workers.children_rss_kb().values())
        points.append((args.memory_leads, after))
    per_10k_mb = slope(points) * 10_000 / 1024
    print(f"memory: worker process RSS {before / 1024:.0f} MB after {len(warm)} leads, "
          f"{after / 1024:.0f} MB after {args.memory_leads} more; growth "
          f"{per_10k_mb:.1f} MB per 10,000 leads (slope of {len(points)} samples over "
          f"{args.memory_leads} leads, extrapolated; bound: 0 for no per-lead leak)",
          flush=True)


if __name__ == "__main__":
    main()
