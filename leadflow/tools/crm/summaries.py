"""The dashboard's running sums (`metric_totals`) and measured values (`metric_values`),
moved by each lead's contribution (leadflow/facts.py) in the transaction that settles it.

A lead that settles again (resumed after a review, woken by an event, merged with a repeat
inquiry) first takes back what it added last time (`lead_facts`), so every sum counts each
lead once, as it stands now. Counters are updated in key order, so two settling leads never
wait for each other's rows in opposite orders (no deadlock on PostgreSQL)."""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from leadflow.tools.crm.base import dialect_insert
from leadflow.tools.crm.schema import (
    Assignment,
    EngagementEvent,
    Lead,
    LeadFacts,
    MetricTotal,
    MetricValue,
    SlaClock,
)


class FactsOf(Protocol):
    """Computes a lead's contribution from the CRM rows that settle with it
    (`leadflow.facts.lead_facts` with the outcome bound)."""

    def __call__(self, *, assignment: Mapping[str, Any] | None, sla: Mapping[str, Any] | None,
                 events: list[str], arrived: Any) -> Mapping[str, Any]: ...


def settled_rows(conn: Connection, lead_id: str) -> dict[str, Any]:
    """The lead's assignment, follow-up clock, event types and arrival, read in the settling
    transaction so its contribution matches what is committed with it."""
    assignment = conn.execute(select(Assignment.__table__)
                              .where(Assignment.lead_id == lead_id)).mappings().first()
    sla = conn.execute(select(SlaClock.__table__)
                       .where(SlaClock.lead_id == lead_id)).mappings().first()
    events = sorted(set(conn.execute(select(EngagementEvent.event_type)
                                     .where(EngagementEvent.lead_id == lead_id)).scalars()))
    arrived = conn.execute(select(Lead.ingested_at).where(Lead.id == lead_id)).scalar()
    return {"assignment": dict(assignment) if assignment else None,
            "sla": dict(sla) if sla else None, "events": events, "arrived": arrived}

SAMPLE_SPACE = 1_000_000  # `metric_values.sample` is in [0, SAMPLE_SPACE)
# Parts of a contribution (leadflow/facts.py) that hold only while the lead's follow-up
# clock runs: erasing the person closes the clock without settling the lead again, so
# erasure retracts these and keeps the rest.
RUNNING_CLOCK = ("sla_running", "sla_pending", "sla_pending_rep")


def sample_of(lead_id: str) -> int:
    """A stable, uniform hash of the lead id: leads below a threshold form the sample."""
    return zlib.crc32(lead_id.encode("utf-8")) % SAMPLE_SPACE


def add_totals(conn: Connection, deltas: Mapping[tuple[str, str], float]) -> None:
    """value += delta for every (name, key), in key order, as one executemany: a settle
    moves ~45 sums, and a round trip each was most of its cost."""
    rows = [{"name": name, "key": key, "value": delta}
            for (name, key), delta in sorted(deltas.items()) if delta != 0]
    if not rows:
        return
    stmt = dialect_insert(conn)(MetricTotal)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["name", "key"],
        set_={"value": MetricTotal.value + stmt.excluded.value}), rows)


def summed(contributions: Iterable[Iterable[Sequence[Any]]],
           sign: float = 1.0) -> dict[tuple[str, str], float]:
    total: dict[tuple[str, str], float] = {}
    for triples in contributions:
        for name, key, amount in triples:
            total[(name, key)] = total.get((name, key), 0.0) + sign * float(amount)
    return total


def apply_facts(conn: Connection, lead_id: str, facts: Mapping[str, Any]) -> None:
    """Replace the lead's contribution (inside the caller's transaction)."""
    old = conn.execute(select(LeadFacts.totals).where(LeadFacts.lead_id == lead_id)).scalar()
    deltas = summed([facts["totals"]])
    for key, amount in summed([old or []], sign=-1.0).items():
        deltas[key] = deltas.get(key, 0.0) + amount
    add_totals(conn, deltas)
    conn.execute(delete(MetricValue).where(MetricValue.lead_id == lead_id))
    sample = sample_of(lead_id)
    if facts["values"]:
        conn.execute(insert(MetricValue), [
            {"name": n, "key": k, "lead_id": lead_id, "value": v, "sample": sample}
            for n, k, v in facts["values"]])
    totals = [list(t) for t in facts["totals"]]
    if old is None:
        conn.execute(insert(LeadFacts).values(lead_id=lead_id, totals=totals))
    else:
        conn.execute(update(LeadFacts).where(LeadFacts.lead_id == lead_id)
                     .values(totals=totals))


def apply_many_facts(conn: Connection, facts: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """New leads' contributions in one go (a bulk load: none of them has one yet)."""
    add_totals(conn, summed(f["totals"] for _, f in facts))
    values = [{"name": n, "key": k, "lead_id": lead_id, "value": v,
               "sample": sample_of(lead_id)}
              for lead_id, f in facts for n, k, v in f["values"]]
    if values:
        conn.execute(insert(MetricValue), values)
    conn.execute(insert(LeadFacts), [{"lead_id": lead_id,
                                      "totals": [list(t) for t in f["totals"]]}
                                     for lead_id, f in facts])


def retract_facts(conn: Connection, lead_ids: Collection[str], names: Collection[str]) -> None:
    """Take the named parts out of these leads' contributions (and the running sums), e.g.
    a follow-up clock that stopped running without the lead settling again."""
    for lead_id in sorted(lead_ids):
        old = conn.execute(select(LeadFacts.totals).where(LeadFacts.lead_id == lead_id)).scalar()
        if not old:
            continue
        gone = [t for t in old if t[0] in names]
        if gone:
            add_totals(conn, summed([gone], sign=-1.0))
            conn.execute(update(LeadFacts).where(LeadFacts.lead_id == lead_id)
                         .values(totals=[t for t in old if t[0] not in names]))
