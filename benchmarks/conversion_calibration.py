"""Why a conversion model's test ECE is what it is, on a simulated CRM (issue 16, item 7):
the evaluator's view (it reads `sim_truth`; it never trains or chooses anything).

For the test leads of the model's own time split it prints the reliability table (the ten
equal-width bins of the ECE — its definition stays fixed: docs/models.md), the ECE of the
simulator's truth on the same leads (the meeting probability each lead really had: what a
model that knew everything would score), and how often a perfectly calibrated score would
reach ECE ≤ 0.05 on this many leads (outcomes drawn from the score itself).

    LEADFLOW_DATABASE_URL=sqlite:////tmp/m/crm.db \
        python benchmarks/conversion_calibration.py [VERSION]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conversion_model import model_and_test_leads  # noqa: E402

from leadflow.scoring import metrics  # noqa: E402

TARGET = 0.05
DRAWS = 2000


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[str]:
    which = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap = abs(p[mask].mean() - y[mask].mean())
            rows.append(f"  [{b / bins:.1f},{(b + 1) / bins:.1f}) n={int(mask.sum()):3d} "
                        f"predicted={p[mask].mean():.3f} observed={y[mask].mean():.3f} "
                        f"|gap|={gap:.3f} share of ece={mask.sum() * gap / len(p):.3f}")
    return rows


def chance_within(p: np.ndarray, target: float, seed: int = 0) -> float:
    """How often outcomes drawn from `p` itself give ECE ≤ target (a perfect score's odds)."""
    rng = np.random.default_rng(seed)
    return float(np.mean([metrics.ece(p, rng.random(len(p)) < p) <= target
                          for _ in range(DRAWS)]))


def main(version: int | None) -> str:
    version, row, model, test, truth = model_and_test_leads(version)
    y = np.array([e.label for e in test])
    p = model.probabilities([e.features for e in test])
    real = np.array([float(((truth.get(e.lead_id) or {}).get("probabilities") or {})
                           .get("meeting", 0.0)) for e in test])
    lines = [f"model {version} ({row['kind']}), {len(test)} test leads, {int(y.sum())} "
             f"converted (rate {y.mean():.3f}); mean prediction {p.mean():.3f}, truth's mean "
             f"{real.mean():.3f}",
             f"model ece={metrics.ece(p, y):.3f}  (noise floor {metrics.ece_noise_floor(p):.3f};"
             f" a perfectly calibrated score with these values reaches ≤ {TARGET} in "
             f"{chance_within(p, TARGET):.0%} of draws)",
             *reliability(p, y),
             f"truth ece={metrics.ece(real, y):.3f}  (the simulator's own meeting probability on "
             f"the same leads; ≤ {TARGET} in {chance_within(real, TARGET):.0%} of draws)",
             *reliability(real, y)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else None))
