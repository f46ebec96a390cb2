"""Importing settled leads in bulk: a year of history from another system, or a benchmark's
million. Rows go in with multi-row inserts in chunks, one transaction per chunk; the
running per-rep counts are recomputed once at the end rather than per row, and PostgreSQL's
planner statistics and visibility map are refreshed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from typing_extensions import TypedDict

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import (
    Assignment,
    EngagementEvent,
    Lead,
    LeadFacts,
    MetricTotal,
    MetricValue,
    QueueItem,
    RepStats,
    SlaClock,
)
from leadflow.tools.crm.summaries import apply_many_facts


class SettledLead(TypedDict, total=False):
    """One lead as the CRM keeps it once settled: its `leads` row and, where it has them,
    its assignment, follow-up clock, engagement events and queue item (column values)."""

    lead: Mapping[str, Any]
    assignment: Mapping[str, Any] | None
    sla: Mapping[str, Any] | None
    events: list[Mapping[str, Any]]
    queue: Mapping[str, Any] | None
    facts: Mapping[str, Any] | None  # its contribution to the dashboard (leadflow/facts.py)


def _chunks(rows: Iterable[SettledLead], size: int) -> Iterator[list[SettledLead]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


class BulkStore(StoreBase):
    """Bulk import of settled leads."""

    def import_settled(self, leads: Iterable[SettledLead], chunk_size: int = 2000) -> int:
        """Insert settled leads (ids must be new); returns how many went in."""
        count = 0
        for chunk in _chunks(leads, chunk_size):
            tables: dict[Any, list[Mapping[str, Any]]] = {
                Lead.__table__: [], Assignment.__table__: [], SlaClock.__table__: [],
                EngagementEvent.__table__: [], QueueItem.__table__: []}
            for lead in chunk:
                # the owner is the assignment's rep (every row names it: one executemany)
                owner = (lead.get("assignment") or {}).get("rep_id")
                tables[Lead.__table__].append({**lead["lead"],
                                               "rep_id": owner or lead["lead"].get("rep_id")})
                if lead.get("assignment"):
                    tables[Assignment.__table__].append(lead["assignment"])  # type: ignore[arg-type]
                if lead.get("sla"):
                    tables[SlaClock.__table__].append(lead["sla"])  # type: ignore[arg-type]
                if lead.get("queue"):
                    tables[QueueItem.__table__].append(lead["queue"])  # type: ignore[arg-type]
                tables[EngagementEvent.__table__].extend(lead.get("events") or [])
            facts = [(lead["lead"]["id"], lead["facts"]) for lead in chunk
                     if lead.get("facts")]
            with self.transaction() as conn:
                for table, rows in tables.items():
                    if rows:
                        conn.execute(insert(table), rows)
                if facts:
                    apply_many_facts(conn, facts)  # type: ignore[arg-type]
            count += len(chunk)
        self._recount_rep_stats()
        self._refresh_planner_statistics()
        return count

    def _refresh_planner_statistics(self) -> None:
        """PostgreSQL after a bulk load, as its manual advises: VACUUM (ANALYZE) the tables
        the load filled. ANALYZE gives the planner their new sizes; VACUUM marks the pages
        all-visible, without which an index-only count over a million fresh rows reads the
        heap too (1.65 s for the dashboard at a million, measured). Autovacuum would get
        there later; an import should leave the database ready to read. SQLite needs
        neither: its counts read the index alone."""
        if self.engine.dialect.name != "postgresql":
            return
        tables = (Lead, Assignment, SlaClock, EngagementEvent, QueueItem, MetricValue,
                  LeadFacts, MetricTotal, RepStats)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f'VACUUM (ANALYZE) "{table.__tablename__}"'))

    def _recount_rep_stats(self) -> None:
        """The running open-lead counts per rep, from the assignments (after a bulk load)."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(Assignment.rep_id, func.count(), func.max(Assignment.assigned_at))
                .where(Assignment.is_open.is_(True)).group_by(Assignment.rep_id)).all()
            conn.execute(delete(RepStats))
            if rows:
                conn.execute(insert(RepStats), [
                    {"rep_id": rep, "open_leads": int(n), "last_assigned_at": last}
                    for rep, n, last in rows])
