"""The dashboard's running sums (`metric_totals`) and measured values (`metric_values`),
moved by each lead's contribution (leadflow/facts.py) in the transaction that settles it.

A lead that settles again (resumed after a review, woken by an event, merged with a repeat
inquiry) first takes back what it added last time (`lead_facts`), so every sum counts each
lead once, as it stands now. Counters are updated in key order, so two settling leads never
wait for each other's rows in opposite orders (no deadlock on PostgreSQL)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from leadflow.tools.crm.base import dialect_insert
from leadflow.tools.crm.schema import LeadFacts, MetricTotal, MetricValue

SAMPLE_SPACE = 1_000_000  # `metric_values.sample` is in [0, SAMPLE_SPACE)


def sample_of(lead_id: str) -> int:
    """A stable, uniform hash of the lead id: leads below a threshold form the sample."""
    return zlib.crc32(lead_id.encode("utf-8")) % SAMPLE_SPACE


def add_totals(conn: Connection, deltas: Mapping[tuple[str, str], float]) -> None:
    """value += delta for every (name, key), in key order."""
    upsert = dialect_insert(conn)
    for (name, key), delta in sorted(deltas.items()):
        if delta == 0:
            continue
        stmt = upsert(MetricTotal).values(name=name, key=key, value=delta)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["name", "key"],
            set_={"value": MetricTotal.value + stmt.excluded.value}))


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
