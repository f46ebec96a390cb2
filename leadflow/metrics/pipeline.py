"""What the agents did: SPEC §9 processing time, success and error rates per agent, LLM
fallbacks and enrichment completeness.

Each lead adds its part to running sums as it settles (leadflow/facts.py, kept in
`metric_totals`), so these read a few hundred small rows whatever the number of leads; the
percentiles come from a stable hashed sample of the measured values (all of them up to
`SAMPLE_TARGET` leads, so small CRMs get exact figures) and the maxima from an index.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from leadflow.agents.enrichment import QUALITY_KEYS
from leadflow.facts import AGENTS, FIELDS, LLM_FAILURE_FLAGS, lead_facts
from leadflow.metrics.aggregates import Stat, ratio
from leadflow.tools.crm import Lead
from leadflow.tools.crm.schema import LeadFacts, MetricTotal, MetricValue
from leadflow.tools.crm.summaries import SAMPLE_SPACE, apply_facts, settled_rows

# Percentiles read at most about this many values per series.
SAMPLE_TARGET = 4_000
BACKFILL_BATCH = 500

Totals = dict[tuple[str, str], float]


class AgentMetrics(BaseModel):
    agent: str
    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    success_rate: float | None = None
    duration_ms: Stat = Field(default_factory=Stat)
    errors: dict[str, int] = Field(default_factory=dict)  # error type → failed steps


class ProcessingMetrics(BaseModel):
    per_lead_ms: Stat  # the sum of a lead's step durations (its active processing time)
    agents: list[AgentMetrics]


class ErrorMetrics(BaseModel):
    steps: int
    failed_steps: int
    error_rate: float | None  # failed steps / steps
    leads_with_errors: int
    lead_error_rate: float | None  # leads with a failed step / leads with steps
    by_type: dict[str, int]  # failed steps by type: data_quality, timeout, an exception class
    llm_fallbacks: dict[str, int]  # leads whose LLM level failed, by flag


class EnrichmentMetrics(BaseModel):
    enriched: int  # leads whose enrichment step succeeded
    kb_matched: int
    kb_match_rate: float | None
    limited_data: int
    completeness: float | None  # mean share of CONTACT_FIELDS + COMPANY_FIELDS filled
    field_fill: dict[str, float]  # field → share of enriched leads that have it
    quality: dict[str, float]  # the four 1–5 data-quality scores, averaged


def read_totals(conn: Connection) -> Totals:
    return {(name, key): float(value) for name, key, value in conn.execute(
        select(MetricTotal.name, MetricTotal.key, MetricTotal.value))}


def value_stat(conn: Connection, totals: Totals, name: str, key: str = "") -> Stat:
    """count, total and mean from the running sums; p50 and p95 nearest-rank over the sample
    (every value up to SAMPLE_TARGET); max from the index."""
    count = int(round(totals.get((f"{name}_n", key), 0.0)))
    if count <= 0:
        return Stat()
    total = totals.get((f"{name}_sum", key), 0.0)
    threshold = SAMPLE_SPACE if count <= SAMPLE_TARGET else math.ceil(
        SAMPLE_SPACE * SAMPLE_TARGET / count)
    where = (MetricValue.name == _VALUE_NAMES[name], MetricValue.key == key)
    sample = sorted(float(v) for v in conn.execute(
        select(MetricValue.value).where(*where, MetricValue.sample < threshold)).scalars())

    def rank(q: float) -> float | None:  # nearest rank: a value that really occurred
        return sample[max(0, math.ceil(q * len(sample)) - 1)] if sample else None

    top = conn.execute(select(func.max(MetricValue.value)).where(*where)).scalar()
    return Stat(count=count, total=round(total, 3), mean=round(total / count, 3),
                p50=rank(0.5), p95=rank(0.95), max=float(top) if top is not None else None)


# running-sum prefix → the measured values' name (leadflow/facts.py)
_VALUE_NAMES = {"duration": "duration_ms", "per_lead": "per_lead_ms", "speed": "speed_to_lead_s",
                "first_touch": "first_touch_s"}


def count_of(totals: Totals, name: str, key: str = "") -> int:
    return int(round(totals.get((name, key), 0.0)))


def processing_metrics(conn: Connection, totals: Totals) -> ProcessingMetrics:
    agents = []
    for name in AGENTS:
        runs, ok = count_of(totals, "runs", name), count_of(totals, "ok", name)
        errors = {k.split("/", 1)[1]: count_of(totals, "errors", k) for (n, k) in totals
                  if n == "errors" and k.startswith(f"{name}/") and count_of(totals, "errors", k)}
        agents.append(AgentMetrics(
            agent=name, runs=runs, succeeded=ok, failed=count_of(totals, "failed", name),
            success_rate=ratio(ok, runs), duration_ms=value_stat(conn, totals, "duration", name),
            errors=dict(sorted(errors.items(), key=lambda e: -e[1]))))
    return ProcessingMetrics(per_lead_ms=value_stat(conn, totals, "per_lead"), agents=agents)


def error_metrics(totals: Totals) -> ErrorMetrics:
    steps = sum(count_of(totals, "runs", a) for a in AGENTS)
    failed = sum(count_of(totals, "failed", a) for a in AGENTS)
    by_type: dict[str, int] = {}
    for (name, key) in totals:
        if name == "errors" and (n := count_of(totals, name, key)):
            kind = key.split("/", 1)[1]
            by_type[kind] = by_type.get(kind, 0) + n
    with_steps = count_of(totals, "leads_with_steps")
    with_errors = count_of(totals, "leads_with_errors")
    return ErrorMetrics(
        steps=steps, failed_steps=failed, error_rate=ratio(failed, steps),
        leads_with_errors=with_errors, lead_error_rate=ratio(with_errors, with_steps),
        by_type=dict(sorted(by_type.items(), key=lambda e: -e[1])),
        llm_fallbacks={flag: count_of(totals, "llm_fallback", flag) for flag in LLM_FAILURE_FLAGS})


def enrichment_metrics(totals: Totals) -> EnrichmentMetrics:
    n = count_of(totals, "enriched")
    matched = count_of(totals, "kb_matched")
    return EnrichmentMetrics(
        enriched=n, kb_matched=matched, kb_match_rate=ratio(matched, n),
        limited_data=count_of(totals, "limited"),
        completeness=round(totals.get(("completeness_sum", ""), 0.0) / n, 4) if n else None,
        field_fill={f: round(totals.get(("filled", f), 0.0) / n, 4) for f in FIELDS}
        if n else {},
        quality={k: round(totals.get(("quality_sum", k), 0.0) / n, 3) for k in QUALITY_KEYS}
        if n else {})


def backfill_facts(conn: Connection, settled: int, target_tech: tuple[str, ...]) -> int:
    """Leads settled before the running sums existed (a CRM from an older leadflow) add
    their part once; returns how many did. Cheap when there are none: two counts."""
    have = int(conn.execute(select(func.count()).select_from(LeadFacts)).scalar() or 0)
    if have >= settled:
        return 0
    done = 0
    while True:
        rows = conn.execute(
            select(Lead.id, Lead.outcome)
            .outerjoin(LeadFacts, LeadFacts.lead_id == Lead.id)
            .where(LeadFacts.lead_id.is_(None), Lead.outcome.is_not(None))
            .limit(BACKFILL_BATCH)).all()
        if not rows:
            return done
        for lead_id, outcome in rows:
            apply_facts(conn, lead_id, lead_facts(outcome, target_tech=target_tech,
                                                  **settled_rows(conn, lead_id)))
        done += len(rows)
