"""Is a model still describing the leads it scores? (`leadflow model drift`, docs/models.md)

Two checks against what was stored with the model when it was trained:

- **Score distribution** — the population stability index (PSI) of the probabilities the
  model gave the leads scored in the last `window_days`, over the ten bins the training
  leads' own score deciles cut (each held a tenth of them):
  PSI = Σ (recent share − 0.1) · ln(recent share / 0.1). 0.1–0.2 is a shift worth watching,
  above 0.2 the customary "the population has changed".
- **Calibration** — on the leads it scored whose horizon has since passed (settled), the
  observed conversion rate against the mean predicted probability, and their ECE (the same
  definition as at training: 10 equal-width bins).

Either beyond its bound in `scoring.yaml` (`drift:`), with at least `min_leads` leads behind
it, is drift: sales ops are told (one notice per model and day).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadflow.config import CONFIG_DIR, read_yaml
from leadflow.scoring import metrics
from leadflow.scoring.features import converted


class DriftBounds(BaseModel):
    """scoring.yaml `drift:`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_days: float = Field(14.0, gt=0)
    min_leads: int = Field(50, ge=1)
    psi_max: float = Field(0.2, gt=0)
    calibration_gap_max: float = Field(0.1, gt=0, le=1)


def load_bounds(path: Path | None = None) -> DriftBounds:
    raw = read_yaml(path or CONFIG_DIR / "scoring.yaml").get("drift") or {}
    try:
        return DriftBounds(**raw)
    except (ValidationError, TypeError) as exc:
        detail = (exc.errors()[0] if isinstance(exc, ValidationError) else None)
        where = ".".join(str(p) for p in detail["loc"]) if detail else ""
        raise ValueError(f"scoring.yaml drift.{where}: {detail['msg'] if detail else exc}"
                         ) from None


def psi(recent: Sequence[float], deciles: Sequence[float]) -> float:
    """Population stability index of `recent` scores over the bins the training deciles
    cut (each bin expected to hold a tenth); an empty bin counts as 0.0001."""
    edges = np.asarray(deciles, dtype=float)
    counts = np.bincount(np.searchsorted(edges, np.asarray(recent, dtype=float), side="right"),
                         minlength=len(edges) + 1)
    actual = np.maximum(counts / max(1, len(recent)), 1e-4)
    expected = 1.0 / (len(edges) + 1)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass
class DriftReport:
    """What `leadflow model drift` prints (and, on drift, tells sales ops)."""

    version: int
    as_of: datetime
    recent: int
    psi: float | None
    settled: int
    predicted: float | None
    observed: float | None
    ece: float | None
    train_ece: float | None
    bounds: DriftBounds
    reasons: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.reasons)

    def line(self) -> str:
        def f(value: float | None) -> str:
            return "—" if value is None else f"{value:.3f}"

        verdict = "DRIFT: " + "; ".join(self.reasons) if self.reasons else "ok"
        return (f"model {self.version}: psi={f(self.psi)} (n={self.recent}, last "
                f"{self.bounds.window_days:g}d) predicted={f(self.predicted)} "
                f"observed={f(self.observed)} ece={f(self.ece)} (train {f(self.train_ece)}, "
                f"n={self.settled}) — {verdict}")

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "as_of": self.as_of.isoformat(),
                "recent": self.recent, "psi": self.psi, "settled": self.settled,
                "predicted": self.predicted, "observed": self.observed, "ece": self.ece,
                "train_ece": self.train_ece, "bounds": self.bounds.model_dump(),
                "drifted": self.drifted, "reasons": self.reasons}


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def measure(version: int, model_metrics: Mapping[str, Any],
            scores: Iterable[tuple[str, float, datetime]],
            events: Mapping[str, Sequence[tuple[str, datetime]]], as_of: datetime,
            bounds: DriftBounds) -> DriftReport:
    """Compare the model's recent scores and settled leads with its training (module doc)."""
    rows = list(scores)
    horizon = timedelta(days=float(model_metrics.get("horizon_days") or 30))
    positive = model_metrics.get("positive_events") or ("meeting_booked", "closed_won")
    recent = [p for _, p, at in rows if at > as_of - timedelta(days=bounds.window_days)]
    deciles = model_metrics.get("score_deciles")
    report = DriftReport(version=version, as_of=as_of, recent=len(recent), psi=None,
                         settled=0, predicted=None, observed=None, ece=None,
                         train_ece=model_metrics.get("ece"), bounds=bounds)
    if deciles and recent:
        report.psi = round(psi(recent, deciles), 4)
    settled = [(p, converted(at, events.get(lead_id, ()), horizon, positive))
               for lead_id, p, at in rows if at + horizon <= as_of]
    report.settled = len(settled)
    if settled:
        p = np.array([s[0] for s in settled])
        y = np.array([s[1] for s in settled])
        report.predicted = _round(float(p.mean()))
        report.observed = _round(float(y.mean()))
        report.ece = _round(metrics.ece(p, y))
    if report.psi is not None and report.recent >= bounds.min_leads \
            and report.psi > bounds.psi_max:
        report.reasons.append(f"score distribution moved (psi {report.psi:.3f} > "
                              f"{bounds.psi_max:g})")
    if (report.predicted is not None and report.observed is not None
            and report.settled >= bounds.min_leads
            and abs(report.predicted - report.observed) > bounds.calibration_gap_max):
        report.reasons.append(
            f"calibration off (predicted {report.predicted:.0%}, observed "
            f"{report.observed:.0%} on {report.settled} settled leads; bound "
            f"{bounds.calibration_gap_max:.0%})")
    return report
