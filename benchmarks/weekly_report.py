"""How long `leadflow report weekly` takes at N settled leads (issue 16 item 6).

The CRM is filled as `benchmarks/history.py` fills it: a real batch (`--batch` synthetic
leads through the compiled graph, rules model) gives the templates; N settled leads cycled
from them are bulk-loaded with arrivals spread over the year before 2026-12-01 (~N/52 a
week). Timed (median of 3): the report's numbers for the last complete week with the
default 8-week trend (`weekly_report`) and its Markdown + HTML (`document`, `markdown`,
`html`).

    python benchmarks/weekly_report.py [--leads 1000000] [--batch 1000] [--keep crm.db]
                                       [--reuse crm.db] [--week 2026-W47]

Prints: `weekly_report: backend=sqlite leads=N week_leads=W trend_leads=T report_s=X
render_s=Y` (`--keep PATH` keeps the filled SQLite CRM there, for another run with
`--reuse PATH`).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from history import NOW, fill, real_batch, templates  # noqa: E402

from leadflow.config import icp  # noqa: E402
from leadflow.reports.render import document, html, markdown  # noqa: E402
from leadflow.reports.weekly import Week, load_rules, positive_events, weekly_report  # noqa: E402
from leadflow.settings import Settings  # noqa: E402
from leadflow.tools.crm import CrmStore  # noqa: E402


def filled(home: Path, leads: int, batch: int) -> Path:
    settings = Settings.local(home / "batch")
    (home / "batch").mkdir()
    asyncio.run(real_batch(settings, batch))
    batch_crm = CrmStore(settings.database_url)
    patterns = templates(batch_crm)
    batch_crm.close()
    path = home / "history.db"
    crm = CrmStore(f"sqlite:///{path}")
    started = time.perf_counter()
    crm.import_settled(fill(leads, patterns))
    print(f"  (bulk load of {leads} leads {time.perf_counter() - started:.1f}s)", file=sys.stderr)
    crm.close()
    add_events(path)
    return path


def add_events(path: Path) -> int:
    """The batch's leads had no reps working them: give the routed ones the events a worked
    CRM has (every one contacted, one in two replied, one in five a meeting, one in twenty
    won), so the report's event reads cost what they would."""
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        for kind, every in (("contacted", 1), ("replied", 2), ("meeting_booked", 5),
                            ("closed_won", 20)):
            conn.execute(
                "INSERT OR IGNORE INTO events (dedupe_key, lead_id, event_type, occurred_at) "
                "SELECT a.lead_id || ':bench:' || ?, a.lead_id, ?, a.assigned_at "
                "FROM assignments a WHERE a.kind = 'rep' AND a.id % ? = 0", (kind, kind, every))
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0] - before)


def timed(path: Path, leads: int, week_label: str | None = None) -> str:
    crm = CrmStore(f"sqlite:///{path}")
    week = Week.parse(week_label) if week_label else Week.last_complete(NOW)
    rules = load_rules()
    runs, renders = [], []
    report = None
    for _ in range(3):
        started = time.perf_counter()
        with crm.engine.connect() as conn:
            report = weekly_report(conn, week, NOW, icp(), positive_events(), rules)
        runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        sections = document(report)
        markdown(sections), html(sections, week.label)
        renders.append(time.perf_counter() - started)
    crm.close()
    assert report is not None
    trend = sum(f["captured"] for f in report.trend.values())
    return (f"weekly_report: backend=sqlite leads={leads} week={week.label} "
            f"week_leads={report.funnel['captured']} trend_leads={trend} "
            f"report_s={statistics.median(runs):.3f} render_s={statistics.median(renders):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="settled leads to load")
    parser.add_argument("--batch", type=int, default=1000, help="leads run through the graph")
    parser.add_argument("--keep", type=Path, help="keep the filled SQLite CRM at this path")
    parser.add_argument("--reuse", type=Path, help="time a CRM filled by an earlier --keep")
    parser.add_argument("--add-events", action="store_true",
                        help="with --reuse: add the engagement events first (once)")
    parser.add_argument("--week", help="the ISO week to report (default: the last complete "
                                       "week before 2026-12-01)")
    args = parser.parse_args()
    if args.reuse:
        if args.add_events:
            print(f"  ({add_events(args.reuse)} events added)", file=sys.stderr)
        print(timed(args.reuse, args.leads, args.week), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="leadflow-weekly-") as tmp:
        path = filled(Path(tmp), args.leads, args.batch)
        if args.keep:
            shutil.copy(path, args.keep)
        print(timed(path, args.leads, args.week), flush=True)


if __name__ == "__main__":
    main()
