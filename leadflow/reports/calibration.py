"""Is the conversion model (docs/models.md) still telling the truth? Its stored scores
(`lead_scores`) of the trend weeks' leads against what those leads did, and the report
week's priorities against the training quartiles they were cut from.

- Reliability: the leads whose horizon has passed by `as_of`, in equal-width probability
  bins: mean predicted probability against the share that converted within the horizon
  (the model's own label: its positive events, its horizon), and the expected calibration
  error over them beside the one measured at training.
- Drift: priorities A–D are the training scores' quartiles, so a population like training's
  puts 25 % in each; the population stability index of the week's shares against that says
  how far the week has moved (`psi_watch`, `psi_drift` in config/reports.yaml).
Below `min_leads` matured (or scored) leads the tables are shown without a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from leadflow.tools.crm.schema import EngagementEvent, Lead, LeadScore, ModelRow

if TYPE_CHECKING:
    from leadflow.reports.weekly import Week, WeeklyRules

PRIORITIES = ("A", "B", "C", "D")


class ReliabilityBin(BaseModel):
    low: float
    high: float
    leads: int
    predicted: float  # mean predicted probability
    observed: float  # share converted within the horizon


class Calibration(BaseModel):
    model_version: int | None = None
    model_status: str | None = None
    message: str = "no model: the rules decide (train one with `leadflow model train`)"
    horizon_days: float | None = None
    matured: int = 0
    converted: int = 0
    ece: float | None = None
    training_ece: float | None = None
    bins: list[ReliabilityBin] = []
    week_scored: int = 0
    week_mean_probability: float | None = None
    priority_share: dict[str, float] = {}
    psi: float | None = None
    drift: str = "no model"  # no model | not enough data | stable | watch | drift


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _model(conn: Connection) -> Any:
    """The promoted model, else the newest (a shadow model is still worth checking)."""
    columns = (ModelRow.version, ModelRow.status, ModelRow.horizon_days, ModelRow.metrics)
    promoted = conn.execute(select(*columns).where(ModelRow.status == "promoted")
                            .order_by(ModelRow.version.desc()).limit(1)).first()
    return promoted or conn.execute(select(*columns).order_by(ModelRow.version.desc())
                                    .limit(1)).first()


def calibration(conn: Connection, week: Week, since: datetime, as_of: datetime,
                positive_events: Sequence[str], rules: WeeklyRules) -> Calibration:
    model = _model(conn)
    if model is None:
        return Calibration()
    metrics = model.metrics or {}
    horizon = timedelta(days=float(metrics.get("horizon_days") or model.horizon_days))
    positive = list(metrics.get("positive_events") or positive_events)
    window = and_(Lead.ingested_at >= since, Lead.ingested_at < week.end)
    rows = conn.execute(
        select(LeadScore.lead_id, LeadScore.probability, LeadScore.priority, Lead.received_at,
               Lead.ingested_at)
        .join(Lead, Lead.id == LeadScore.lead_id)
        .where(window, LeadScore.model_version == model.version)).all()
    arrived = {r.lead_id: _utc(r.received_at or r.ingested_at) for r in rows}
    matured = [r for r in rows if arrived[r.lead_id] + horizon <= as_of]
    hits: set[str] = set()
    if matured:
        ids = select(LeadScore.lead_id).join(Lead, Lead.id == LeadScore.lead_id).where(
            window, LeadScore.model_version == model.version)
        for lead_id, at in conn.execute(
                select(EngagementEvent.lead_id, EngagementEvent.occurred_at)
                .where(EngagementEvent.lead_id.in_(ids),
                       EngagementEvent.event_type.in_(positive))):
            start = arrived.get(lead_id)
            if start is not None and start <= _utc(at) <= start + horizon:
                hits.add(lead_id)
    p = [float(r.probability) for r in matured]
    y = [r.lead_id in hits for r in matured]
    week_rows = [r for r in rows if week.start <= _utc(r.ingested_at) < week.end]
    bins = _bins(p, y, rules.calibration_bins)
    out = Calibration(
        model_version=int(model.version), model_status=str(model.status),
        message=f"model v{model.version} ({model.status})", horizon_days=horizon.days,
        matured=len(matured), converted=sum(y), bins=bins,
        ece=expected_calibration_error(bins),
        training_ece=metrics.get("ece"), week_scored=len(week_rows),
        week_mean_probability=round(sum(float(r.probability) for r in week_rows)
                                    / len(week_rows), 4) if week_rows else None)
    if week_rows:
        counts = {k: sum(r.priority == k for r in week_rows) for k in PRIORITIES}
        out.priority_share = {k: round(n / len(week_rows), 4) for k, n in counts.items()}
        out.psi = round(psi([counts[k] / len(week_rows) for k in PRIORITIES],
                            [0.25] * len(PRIORITIES)), 4)
    if len(week_rows) < rules.calibration_min_leads or out.psi is None:
        out.drift = "not enough data"
    elif out.psi >= rules.psi_drift:
        out.drift = "drift"
    elif out.psi >= rules.psi_watch:
        out.drift = "watch"
    else:
        out.drift = "stable"
    return out


def psi(actual: Sequence[float], expected: Sequence[float], floor: float = 1e-4) -> float:
    """Population stability index: Σ (a − e)·ln(a / e), shares floored so an empty bin
    counts as a large, finite move."""
    return math.fsum((max(a, floor) - max(e, floor)) * math.log(max(a, floor) / max(e, floor))
                     for a, e in zip(actual, expected, strict=True))


def expected_calibration_error(bins: Sequence[ReliabilityBin]) -> float | None:
    """The leads-weighted mean |predicted − observed| over the bins: `scoring.metrics.ece`,
    the figure training reports, read off the table."""
    n = sum(b.leads for b in bins)
    return round(math.fsum(b.leads * abs(b.predicted - b.observed) for b in bins) / n, 4) \
        if n else None


def _bins(p: Sequence[float], y: Sequence[bool], bins: int) -> list[ReliabilityBin]:
    """Equal-width bins (1.0 falls in the last, as `scoring.metrics.ece` counts them)."""
    grouped: dict[int, list[tuple[float, bool]]] = {}
    for prob, label in zip(p, y, strict=True):
        grouped.setdefault(min(int(prob * bins), bins - 1), []).append((prob, label))
    return [ReliabilityBin(low=round(b / bins, 4), high=round((b + 1) / bins, 4),
                           leads=len(items),
                           predicted=round(sum(x for x, _ in items) / len(items), 4),
                           observed=round(sum(lab for _, lab in items) / len(items), 4))
            for b, items in sorted(grouped.items())]
