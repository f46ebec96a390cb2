"""What a conversion model may know about a lead, and what it learns to predict.

Features are read from what the CRM stores when a lead is routed — the lead record (contact,
company, source) and the outcome record's qualification and flags — by one function, the
same at training time (stored leads) and at scoring time (the lead being settled), so the two
cannot drift apart. Nothing written after routing is read: not the status, the current
assignment (a manager may reassign it: the rep routing chose is read instead), nor flags
other than `routing_flags` (an engagement event's name becomes a flag). The simulator's
`sim_truth` table is never read here.

The label: an engagement event in `positive_events` (a meeting booked, a deal won) within
`horizon_days` of arrival. A lead is labelled only once its horizon has passed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from leadflow.agents.enrichment import QUALITY_KEYS, score_quality
from leadflow.agents.meddic import criteria_of
from leadflow.clock import parse_datetime
from leadflow.config import CONFIG_DIR, read_yaml
from leadflow.tools.crm.models import StoredLead

Features = dict[str, float | str]


@dataclass(frozen=True)
class ScoringConfig:
    """`leadflow/config/scoring.yaml`."""

    horizon_days: float = 30.0
    positive_events: tuple[str, ...] = ("meeting_booked", "closed_won")
    min_leads: int = 200
    min_conversions: int = 30
    test_fraction: float = 0.25
    validation_fraction: float = 0.25
    routing_flags: tuple[str, ...] = ()
    top_factors: int = 3
    calibrations: tuple[str, ...] = ("sigmoid",)  # the maps `train` chooses among

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)

    def with_overrides(self, **values: Any) -> ScoringConfig:
        given = {k: v for k, v in values.items() if v is not None}
        return ScoringConfig(**{**self.__dict__, **given})


def load_scoring(path: Path | None = None) -> ScoringConfig:
    raw = read_yaml(path or CONFIG_DIR / "scoring.yaml")
    return ScoringConfig(
        horizon_days=float(raw.get("horizon_days", 30)),
        positive_events=tuple(raw.get("positive_events") or ("meeting_booked", "closed_won")),
        min_leads=int(raw.get("min_leads", 200)),
        min_conversions=int(raw.get("min_conversions", 30)),
        test_fraction=float(raw.get("test_fraction", 0.25)),
        validation_fraction=float(raw.get("validation_fraction", 0.25)),
        routing_flags=tuple(raw.get("routing_flags") or ()),
        top_factors=int(raw.get("top_factors", 3)),
        calibrations=_calibrations(raw.get("calibrations")),
    )


def _calibrations(value: Any) -> tuple[str, ...]:
    """scoring.yaml `calibrations`: a non-empty list of sigmoid / isotonic."""
    names = tuple(str(v) for v in (value or ("sigmoid",)))
    unknown = [n for n in names if n not in ("sigmoid", "isotonic")]
    if unknown or not isinstance(value or [], list):
        raise ValueError(f"scoring.yaml calibrations: {value!r} must list sigmoid and/or "
                         "isotonic")
    return names


@cache
def scoring_config() -> ScoringConfig:
    return load_scoring()


def parse_horizon(text: str) -> float:
    """'30d' / '30' → 30.0 days; '12h' → 0.5; '2w' → 14.0."""
    value = text.strip().lower()
    unit = {"d": 1.0, "h": 1 / 24, "w": 7.0}.get(value[-1:])
    number = value[:-1] if unit is not None else value
    try:
        days = float(number) * (unit or 1.0)
    except ValueError:
        raise ValueError(f"not a horizon: {text!r} (e.g. 30d, 2w, 36h)") from None
    if days <= 0:
        raise ValueError(f"the horizon must be positive: {text!r}")
    return days


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _category(value: Any) -> str:
    return str(value) if value not in (None, "") else "none"


def arrival_of(record: Mapping[str, Any], fallback: datetime | None = None) -> datetime | None:
    """When the lead arrived: its source's `received_at`, else `fallback` (when stored)."""
    source = record.get("source") or {}
    return parse_datetime(source.get("received_at")) or fallback


def routing_features(record: Mapping[str, Any], bant: Mapping[str, Any] | None,
                     flags: Iterable[str], *, arrived: datetime | None, routed_to: str | None,
                     target_tech: Sequence[str], routing_flags: Iterable[str]) -> Features:
    """The lead's features at routing time: numbers (scores, sizes, 0/1 flags) and
    categories (strings: one-hot encoded by the model). Absent facts are left out (a number)
    or `none` (a category)."""
    contact = record.get("contact") or {}
    company = record.get("company") or {}
    source = record.get("source") or {}
    out: Features = {}
    bant = bant or {}
    out["framework"] = _category(bant.get("framework") or ("BANT" if bant else None))
    out["tier"] = _category(bant.get("tier"))
    for criterion in criteria_of(dict(bant)) if bant else ():
        part = bant.get(criterion) or {}
        score = _number(part.get("score"))  # (its band is a function of it: not repeated)
        if score is not None:
            out[f"bant.{criterion}"] = score
    total = _number(bant.get("total"))
    if total is not None:
        out["bant.total"] = total
    quality = score_quality({"contact": contact, "company": company}, tuple(target_tech))
    for key in QUALITY_KEYS:
        out[f"quality.{key}"] = float(getattr(quality, key))
    for name in ("employees", "revenue_usd"):
        size = _number(company.get(name))
        if size is not None and size >= 0:
            out[f"company.log_{name}"] = math.log1p(size)
        else:
            out[f"company.{name}_unknown"] = 1.0
    out["company.tech_stack_size"] = float(len(company.get("tech_stack") or []))
    out["contact.has_phone"] = float(bool(contact.get("phone")))
    for key in ("seniority", "department"):
        out[f"contact.{key}"] = _category(contact.get(key))
    for key in ("segment", "industry", "region"):
        out[f"company.{key}"] = _category(company.get(key))
    out["source.channel"] = _category(source.get("channel"))
    out["source.campaign"] = _category(source.get("campaign"))
    out["routed_to"] = _category(routed_to)  # the routing decision: reps differ
    if arrived is not None:  # a weekend lead waits for Monday: speed to lead
        out["arrival.weekend"] = float(arrived.weekday() >= 5)
    known = set(routing_flags)
    for flag in flags:
        if flag in known:
            out[f"flag.{flag}"] = 1.0
    return out


def in_population(bant: Mapping[str, Any] | None, assign_tiers: Iterable[str]) -> bool:
    """Whether the rules hand this lead to a rep: the leads a model learns from and scores."""
    return bool(bant) and (bant or {}).get("tier") in set(assign_tiers)


def converted(arrived: datetime, events: Iterable[tuple[str, datetime]],
              horizon: timedelta, positive: Iterable[str]) -> bool:
    """A positive event at or after arrival and within the horizon of it."""
    wanted = set(positive)
    return any(kind in wanted and arrived <= at <= arrived + horizon for kind, at in events)


@dataclass(frozen=True)
class Example:
    """One labelled lead: what was known at routing time and what followed."""

    lead_id: str
    arrived_at: datetime
    features: Features
    baseline: float  # the rules' total score (the baseline a model must beat)
    label: bool


def labelled_examples(leads: Iterable[StoredLead],
                      events: Mapping[str, Sequence[tuple[str, datetime]]],
                      as_of: datetime, config: ScoringConfig, *,
                      assign_tiers: Iterable[str], target_tech: Sequence[str]) -> list[Example]:
    """The leads of the population whose horizon has passed by `as_of`, labelled, oldest
    first (ties by id)."""
    tiers = tuple(assign_tiers)
    out: list[Example] = []
    for lead in leads:
        bant = lead.outcome.get("bant") or None
        if not in_population(bant, tiers):
            continue
        arrived = arrival_of(lead.record, lead.arrived_at)
        if arrived is None or arrived + config.horizon > as_of:
            continue
        features = routing_features(lead.record, bant, lead.outcome.get("flags") or (),
                                    arrived=arrived, routed_to=lead.routed_to,
                                    target_tech=target_tech,
                                    routing_flags=config.routing_flags)
        out.append(Example(
            lead_id=lead.lead_id, arrived_at=arrived, features=features,
            baseline=float(_number((bant or {}).get("total")) or 0.0),
            label=converted(arrived, events.get(lead.lead_id, ()), config.horizon,
                            config.positive_events)))
    out.sort(key=lambda e: (e.arrived_at, e.lead_id))
    return out


def time_split(examples: Sequence[Example],
               fraction: float) -> tuple[list[Example], list[Example]]:
    """(earlier, later): the newest `fraction` of the examples (by arrival) are `later`. The
    cut never splits leads that arrived at the same moment."""
    ordered = sorted(examples, key=lambda e: (e.arrived_at, e.lead_id))
    if not ordered:
        return [], []
    cut = max(0, min(len(ordered), round(len(ordered) * (1 - fraction))))
    while 0 < cut < len(ordered) and ordered[cut].arrived_at == ordered[cut - 1].arrived_at:
        cut += 1
    return ordered[:cut], ordered[cut:]
