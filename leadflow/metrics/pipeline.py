"""What the agents did, read from the outcome records: SPEC §9 processing time, success and
error rates per agent, LLM fallbacks and enrichment completeness.

Only `leads.outcome` knows each step's result, error type and `duration_ms`, the flags and the
enriched record, so these metrics share one streamed pass over it (`OutcomeScan`) rather than
SQL aggregates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from leadflow.agents.enrichment import QUALITY_KEYS, score_quality
from leadflow.graph.messages import AGENT_NAMES
from leadflow.metrics.aggregates import Stat, ratio
from leadflow.tools.crm import Lead

AGENTS = tuple(name for key, name in AGENT_NAMES.items() if key != "supervisor")
# Fields enrichment tries to fill; completeness is the share of them a lead ends up with.
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title")
COMPANY_FIELDS = ("domain", "industry", "employees", "revenue_usd", "country", "tech_stack",
                  "funding")
# Flags that mean the LLM level failed and the rules decided (SPEC §6 API/LLM failure).
LLM_FAILURE_FLAGS = ("llm_error", "llm_invalid_output", "circuit_open")


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


def outcomes(conn: Connection) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=500).execute(select(Lead.outcome))
    for (outcome,) in result:
        if isinstance(outcome, dict):
            yield outcome


class OutcomeScan:
    """One pass over the outcome records: per-step timing and results, flags, fields."""

    def __init__(self, target_tech: tuple[str, ...]) -> None:
        self.target_tech = target_tech
        self.runs: Counter[str] = Counter()
        self.ok: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.durations: dict[str, list[float]] = {name: [] for name in AGENTS}
        self.agent_errors: dict[str, Counter[str]] = {name: Counter() for name in AGENTS}
        self.per_lead: list[float] = []
        self.leads_with_steps = 0
        self.leads_with_errors = 0
        self.llm_flags: Counter[str] = Counter()
        self.enriched = self.kb_matched = self.limited = 0
        self.filled: Counter[str] = Counter()
        self.completeness: list[float] = []
        self.quality: dict[str, list[int]] = {key: [] for key in QUALITY_KEYS}

    def feed(self, outcomes: Iterable[dict[str, Any]]) -> None:
        for outcome in outcomes:
            self._lead(outcome)

    def _lead(self, outcome: dict[str, Any]) -> None:
        flags = set(outcome.get("flags") or [])
        self.llm_flags.update(flag for flag in LLM_FAILURE_FLAGS if flag in flags)
        timed: list[float] = []
        ran = errored = enriched = False
        for step in outcome.get("decisions") or []:
            agent = step.get("agent") or AGENT_NAMES.get(step.get("step") or "")
            result = step.get("outcome")
            if agent not in self.durations or result not in ("success", "failure",
                                                            "duplicate"):
                continue  # a person's decision, or a record written before steps had results
            ran = True
            self.runs[agent] += 1
            if result == "failure":
                errored = True
                self.failed[agent] += 1
                self.agent_errors[agent][step.get("error_type") or "unknown"] += 1
            else:
                self.ok[agent] += 1
                enriched = enriched or agent == AGENT_NAMES["enrichment"]
            duration = step.get("duration_ms")
            if isinstance(duration, int | float):
                self.durations[agent].append(float(duration))
                timed.append(float(duration))
        self.leads_with_steps += ran
        self.leads_with_errors += errored
        if timed:
            self.per_lead.append(round(math.fsum(timed), 3))
        if enriched:
            self._enrichment(outcome, flags)

    def _enrichment(self, outcome: dict[str, Any], flags: set[str]) -> None:
        contact = outcome.get("contact") or {}
        company = outcome.get("company") or {}
        self.enriched += 1
        self.kb_matched += "unknown_company" not in flags
        self.limited += "limited_data" in flags
        have = [f"contact.{f}" for f in CONTACT_FIELDS if contact.get(f)]
        have += [f"company.{f}" for f in COMPANY_FIELDS if company.get(f) not in (None, "",
                                                                                  "other", [])]
        self.filled.update(have)
        self.completeness.append(len(have) / (len(CONTACT_FIELDS) + len(COMPANY_FIELDS)))
        quality = score_quality({"contact": contact, "company": company}, self.target_tech)
        for key in QUALITY_KEYS:
            self.quality[key].append(getattr(quality, key))

    def processing(self) -> ProcessingMetrics:
        agents = [AgentMetrics(agent=name, runs=self.runs[name], succeeded=self.ok[name],
                               failed=self.failed[name],
                               success_rate=ratio(self.ok[name], self.runs[name]),
                               duration_ms=Stat.of(self.durations[name]),
                               errors=dict(self.agent_errors[name].most_common()))
                  for name in AGENTS]
        return ProcessingMetrics(per_lead_ms=Stat.of(self.per_lead), agents=agents)

    def errors(self) -> ErrorMetrics:
        steps, failed = sum(self.runs.values()), sum(self.failed.values())
        by_type: Counter[str] = Counter()
        for counts in self.agent_errors.values():
            by_type.update(counts)
        return ErrorMetrics(
            steps=steps, failed_steps=failed, error_rate=ratio(failed, steps),
            leads_with_errors=self.leads_with_errors,
            lead_error_rate=ratio(self.leads_with_errors, self.leads_with_steps),
            by_type=dict(by_type.most_common()),
            llm_fallbacks={flag: self.llm_flags[flag] for flag in LLM_FAILURE_FLAGS})

    def enrichment(self) -> EnrichmentMetrics:
        fields = [f"contact.{f}" for f in CONTACT_FIELDS] + [f"company.{f}"
                                                             for f in COMPANY_FIELDS]
        n = self.enriched
        return EnrichmentMetrics(
            enriched=n, kb_matched=self.kb_matched, kb_match_rate=ratio(self.kb_matched, n),
            limited_data=self.limited,
            completeness=round(math.fsum(self.completeness) / n, 4) if n else None,
            field_fill={f: round(self.filled[f] / n, 4) for f in fields} if n else {},
            quality={k: round(sum(v) / n, 3) for k, v in self.quality.items()} if n else {})
