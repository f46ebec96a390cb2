"""A year of leads on one database: checkpoint bytes per settled lead, and how fast the
dashboard data and a page of `leads list` read at N settled leads (issue 15).

1. A real batch (`--batch`, 1,000 synthetic web-form leads) runs through the compiled graph
   with the rules model; the checkpoint storage its settled leads keep, divided by their
   number, is `checkpoint_kb_per_lead` (SQLite: the checkpoint file's used pages after a WAL
   checkpoint; PostgreSQL: the checkpoint tables' total relation size, indexes included,
   after a VACUUM FULL that drops the pruned rows' dead tuples).
2. The batch's CRM rows (leads, assignments, follow-up clocks, events, queue items) are the
   templates of N settled leads (`--leads`, a million by default) loaded through the store's
   bulk path (`CrmStore.import_settled`) with new ids and arrival times spread over a year.
3. Timed on the filled CRM: the dashboard's data (`metrics.snapshot`, median of 3) and a page
   of `leads list` (50 rows): `list_ms` unfiltered, by status, by tier (the slowest median of
   5); `list_filter_ms` the slowest of every combination of status, tier and rep (three reps
   and one with no leads), each also over the last 30 days (median of 3 each), and
   `list_rep_ms` the slowest of those with a rep; `list_page5_ms` the slowest fifth page,
   walked by cursor, of those filters with five pages (median of 5).

Prints one line per backend:

    history: backend=sqlite leads=N dashboard_s=X list_ms=Y list_rep_ms=… list_filter_ms=…
             list_page5_ms=… checkpoint_kb_per_lead=Z

    python benchmarks/history.py [--leads 1000000] [--batch 1000] [--backend sqlite|postgres|both]

PostgreSQL uses LEADFLOW_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test)
in a throw-away schema. Targets (issue 15): dashboard <= 1 s, a page <= 100 ms,
checkpoints <= 15 KB per settled lead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from leadflow.data.synthetic import synthetic_leads
from leadflow.metrics import snapshot
from leadflow.runtime import open_runtime
from leadflow.settings import Settings
from leadflow.tools.crm import Assignment, CrmStore, EngagementEvent, Lead, QueueItem, SlaClock
from leadflow.tools.crm.bulk import SettledLead
from leadflow.tools.crm.schema import LeadFacts, MetricValue
from leadflow.tools.reps import RepDirectory

PG_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTLED = ("routed", "nurture", "marketing", "escalated", "awaiting_followup")


def median_s(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def real_batch(settings: Settings, count: int) -> list[str]:
    """Run `count` synthetic leads through the graph; the settled ones' lead ids."""
    async with open_runtime(settings) as runtime:
        outcomes = await runtime.runner.run(synthetic_leads(count, prefix="HIST"), concurrency=4)
    return [o["lead_id"] for o in outcomes if o["status"] in SETTLED]


def checkpoint_bytes(settings: Settings) -> int:
    if settings.database_url.startswith("postgresql"):
        crm = CrmStore(settings.database_url)
        tables = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        with crm.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # pruned rows are dead tuples until a vacuum; autovacuum makes their space
            # reusable in a running system, so measure what the live rows take
            for table in tables:
                conn.execute(text(f"VACUUM FULL {table}"))
            size = conn.execute(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
                "AND c.relname IN ('checkpoints', 'checkpoint_blobs', 'checkpoint_writes')"
            )).scalar()
        crm.close()
        return int(size or 0)
    with sqlite3.connect(settings.checkpoint_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, page_size = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                                  for p in ("page_count", "freelist_count", "page_size"))
    return int((pages - free) * page_size)


def templates(crm: CrmStore) -> list[SettledLead]:
    """The batch's settled leads as the CRM keeps them."""
    out: list[SettledLead] = []
    with crm.engine.connect() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(select(Lead.__table__)).mappings()}

        def by_lead(table: Any) -> dict[str, list[dict[str, Any]]]:
            found: dict[str, list[dict[str, Any]]] = {}
            for r in conn.execute(select(table)).mappings():
                found.setdefault(r["lead_id"], []).append(dict(r))
            return found

        assignments, slas = by_lead(Assignment.__table__), by_lead(SlaClock.__table__)
        events, queue = by_lead(EngagementEvent.__table__), by_lead(QueueItem.__table__)
        values = by_lead(MetricValue.__table__)
        facts = {lead_id: {"totals": totals, "values": [
                     (v["name"], v["key"], v["value"]) for v in values.get(lead_id, [])]}
                 for lead_id, totals in conn.execute(select(LeadFacts.lead_id,
                                                            LeadFacts.totals))}
    for lead_id, lead in rows.items():
        if lead["status"] not in SETTLED:
            continue
        out.append(SettledLead(lead=lead, assignment=(assignments.get(lead_id) or [None])[0],
                               sla=(slas.get(lead_id) or [None])[0],
                               events=events.get(lead_id, []),
                               queue=(queue.get(lead_id) or [None])[0],
                               facts=facts.get(lead_id)))
    return out


def fill(count: int, patterns: list[SettledLead]) -> Iterator[SettledLead]:
    """`count` settled leads cycled from `patterns`: new ids and email keys, arrivals spread
    over the year before NOW."""
    year = timedelta(days=365).total_seconds()
    for n in range(count):
        pattern = patterns[n % len(patterns)]
        lead_id = f"LEAD-h{n:011x}"
        shift = timedelta(seconds=year * (n + 1) / count) - timedelta(days=365)
        lead = {**pattern["lead"], "id": lead_id, "email_key": f"h{n}@history.example",
                "contact_id": None, "account_id": None}
        for key in ("received_at", "ingested_at", "updated_at"):
            if lead.get(key):
                lead[key] = NOW + shift
        moved: SettledLead = {"lead": lead, "events": []}
        if (a := pattern.get("assignment")) is not None:
            moved["assignment"] = {**{k: v for k, v in a.items() if k != "id"},
                                   "lead_id": lead_id, "assigned_at": NOW + shift}
        if (s := pattern.get("sla")) is not None:
            moved["sla"] = {**s, "lead_id": lead_id,
                            **{k: (s[k] - s["started_at"]) + NOW + shift
                               for k in ("started_at", "due_at", "remind_at", "escalate_at")},
                            "first_touch_at": None, "reminded_at": None, "escalated_at": None}
        moved["events"] = [{**{k: v for k, v in e.items() if k != "id"}, "lead_id": lead_id,
                            "dedupe_key": f"{lead_id}:{e['event_type']}:{i}",
                            "occurred_at": NOW + shift} for i, e in enumerate(pattern["events"])]
        moved["facts"] = pattern.get("facts")
        if (q := pattern.get("queue")) is not None:
            moved["queue"] = {**{k: v for k, v in q.items() if k != "id"}, "lead_id": lead_id,
                              "created_at": NOW + shift}
        yield moved


Filter = tuple[tuple[str, Any], ...]  # a filter as a dict's sorted items (a dict key)


def filter_combinations(crm: CrmStore) -> list[dict[str, Any]]:
    """Every status and tier stored, alone and together, each with three reps (the one with
    the most leads, one in the middle, the one with the fewest) and a rep with none, and each
    of those over the last 30 days too: a page of any of them must be fast."""
    with crm.engine.connect() as conn:
        statuses = [s for s in conn.execute(select(Lead.status).distinct()).scalars() if s]
        tiers = [t for t in conn.execute(select(Lead.tier).distinct()).scalars() if t]
        reps = [r for r, _ in conn.execute(
            select(Assignment.rep_id, func.count()).group_by(Assignment.rep_id)
            .order_by(func.count().desc(), Assignment.rep_id)).all()]
    picked = list(dict.fromkeys([reps[0], reps[len(reps) // 2], reps[-1]])) if reps else []
    combos: list[dict[str, Any]] = []
    for rep in (None, *picked, "rep-nobody"):
        for status in (None, *statuses):
            for tier in (None, *tiers):
                combo = {k: v for k, v in (("rep", rep), ("status", status), ("tier", tier))
                         if v is not None}
                combos += [combo, {**combo, "since": NOW - timedelta(days=30)}]
    return combos


def time_filters(crm: CrmStore) -> dict[Filter, float]:
    """A page (50) of each filter combination: the median of 3 each."""
    return {tuple(sorted(f.items())): median_s(lambda f=f: crm.lead_page(limit=50, **f), 3)
            for f in filter_combinations(crm)}


def time_fifth_pages(crm: CrmStore, filters: list[dict[str, Any]]) -> dict[Filter, float]:
    """Page 5 (after walking 4 by cursor) of each filter with five pages: the median of 5."""
    times: dict[Filter, float] = {}
    for f in filters:
        cursor = None
        for _ in range(4):
            cursor = crm.lead_page(limit=50, cursor=cursor, **f).next_cursor
            if cursor is None:
                break
        if cursor is not None:
            times[tuple(sorted(f.items()))] = median_s(
                lambda f=f, c=cursor: crm.lead_page(limit=50, cursor=c, **f), 5)
    return times


def bench(backend: str, leads: int, batch: int) -> str:
    with tempfile.TemporaryDirectory(prefix="leadflow-history-") as tmp:
        home = Path(tmp)
        schema = f"history_{uuid.uuid4().hex[:8]}"
        if backend == "postgres":
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            settings = Settings(model="rules", home=home, database_url=url,
                                checkpoint_path=home / "unused.db", timeout_scale=1.0,
                                kb_dir=None)
        else:
            settings = Settings.local(home / "batch")
            (home / "batch").mkdir()
        try:
            settled = asyncio.run(real_batch(settings, batch))
            kb_per_lead = checkpoint_bytes(settings) / max(1, len(settled)) / 1024
            batch_crm = CrmStore(settings.database_url)
            patterns = templates(batch_crm)
            batch_crm.close()
            target = (f"{PG_URL}?options=-csearch_path%3D{schema}_fill" if backend == "postgres"
                      else f"sqlite:///{home / 'history.db'}")
            crm = CrmStore(target)
            started = time.perf_counter()
            crm.import_settled(fill(leads, patterns))
            load_s = time.perf_counter() - started
            reps = RepDirectory()
            dashboard_s = median_s(lambda: snapshot(crm, reps, NOW), 3)
            pages = [median_s(lambda f=f: crm.list_leads(limit=50, **f), 5)  # type: ignore[misc]
                     for f in ({}, {"status": "nurture"}, {"tier": "hot"})]
            filtered = time_filters(crm)
            worst = max(filtered, key=lambda key: filtered[key])
            by_rep = {key: s for key, s in filtered.items() if "rep" in dict(key)}
            page5 = time_fifth_pages(crm, [{}, {"status": "nurture"}, {"tier": "hot"},
                                           *(dict(key) for key in filtered)])
            worst5 = max(page5, key=lambda key: page5[key])
            crm.close()
            print(f"  ({backend}: bulk load of {leads} leads {load_s:.1f}s; pages "
                  + ", ".join(f"{p * 1000:.1f}ms" for p in pages)
                  + f"; {len(filtered)} filter combinations, the slowest "
                  + f"{filtered[worst] * 1000:.1f}ms {dict(worst)}; page 5 of {len(page5)}, "
                  + f"the slowest {page5[worst5] * 1000:.1f}ms {dict(worst5)})", file=sys.stderr)
            return (f"history: backend={backend} leads={leads} dashboard_s={dashboard_s:.3f} "
                    f"list_ms={max(pages) * 1000:.1f} "
                    f"list_rep_ms={max(by_rep.values()) * 1000:.1f} "
                    f"list_filter_ms={filtered[worst] * 1000:.1f} "
                    f"list_page5_ms={page5[worst5] * 1000:.1f} "
                    f"checkpoint_kb_per_lead={kb_per_lead:.1f}")
        finally:
            if backend == "postgres":
                drop = CrmStore(PG_URL)
                with drop.engine.begin() as conn:
                    for name in (schema, f"{schema}_fill"):
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
                drop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="settled leads to load")
    parser.add_argument("--batch", type=int, default=1000, help="leads run through the graph")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    for backend in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
        print(bench(backend, args.leads, args.batch), flush=True)


if __name__ == "__main__":
    main()
