"""How good a conversion score is on leads whose outcome is known: ordering (AUC, the lift
of the top decile) and calibration (expected calibration error, log loss, Brier score)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _arrays(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if s.shape != y.shape:
        raise ValueError("scores and labels differ in length")
    return s, y


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative
    (ties count half). NaN when one class is missing."""
    s, y = _arrays(scores, labels)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def ece(probabilities: ArrayLike, labels: ArrayLike, bins: int = 10) -> float:
    """Expected calibration error: over `bins` equal-width bins of the predicted probability,
    the leads-weighted mean |mean prediction − share converted|. (1.0 falls in the last bin.)"""
    p, y = _arrays(probabilities, labels)
    if len(p) == 0:
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return float(total / len(p))


def lift_top_decile(scores: ArrayLike, labels: ArrayLike) -> float:
    """The conversion rate of the top-scored tenth of the leads over the overall rate (ties
    at the cut are broken by order). NaN without positives."""
    s, y = _arrays(scores, labels)
    if len(s) == 0 or not y.any():
        return float("nan")
    k = max(1, int(np.ceil(len(s) / 10)))
    top = np.argsort(-s, kind="mergesort")[:k]
    return float(y[top].mean() / y.mean())


def ece_noise_floor(probabilities: ArrayLike, bins: int = 10, draws: int = 1000,
                    seed: int = 0) -> float:
    """The ECE a perfectly calibrated model would still show on this many leads: the median
    over `draws` of the ECE of these probabilities against outcomes drawn from them. A
    measured ECE near it says nothing more than "too few test leads to tell"."""
    p = np.asarray(probabilities, dtype=float)
    if len(p) == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    return float(np.median([ece(p, rng.random(len(p)) < p, bins) for _ in range(draws)]))


def reliability(probabilities: ArrayLike, labels: ArrayLike,
                bins: int = 10) -> list[dict[str, float]]:
    """The ECE's bins that hold leads: where each starts, how many leads, their mean
    prediction and share converted — what the ECE is made of."""
    p, y = _arrays(probabilities, labels)
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [{"from": b / bins, "n": int((which == b).sum()),
             "predicted": round(float(p[which == b].mean()), 4),
             "observed": round(float(y[which == b].mean()), 4)}
            for b in range(bins) if (which == b).any()]


def chance_within(probabilities: ArrayLike, target: float, bins: int = 10,
                  draws: int = 1000, seed: int = 0) -> float:
    """How often a perfectly calibrated score with these values shows ECE ≤ target on this
    many leads (outcomes drawn from the score itself)."""
    p = np.asarray(probabilities, dtype=float)
    if len(p) == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    return round(float(np.mean([ece(p, rng.random(len(p)) < p, bins) <= target
                                for _ in range(draws)])), 4)


def log_loss(probabilities: ArrayLike, labels: ArrayLike) -> float:
    p, y = _arrays(probabilities, labels)
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))


def brier(probabilities: ArrayLike, labels: ArrayLike) -> float:
    p, y = _arrays(probabilities, labels)
    return float(np.mean((p - y) ** 2))


def summary(probabilities: ArrayLike, labels: ArrayLike,
            baseline: ArrayLike | None = None) -> dict[str, float]:
    """Every metric of a score on one set of leads (`baseline`: the rules' score on them)."""
    out = {"auc": auc(probabilities, labels), "ece": ece(probabilities, labels),
           "ece_noise_floor": ece_noise_floor(probabilities),
           "lift_top_decile": lift_top_decile(probabilities, labels),
           "log_loss": log_loss(probabilities, labels), "brier": brier(probabilities, labels),
           "n": float(np.size(labels)), "positives": float(np.sum(np.asarray(labels, dtype=bool)))}
    if baseline is not None:
        out["baseline_auc"] = auc(baseline, labels)
        out["baseline_lift_top_decile"] = lift_top_decile(baseline, labels)
    return {k: round(v, 4) for k, v in out.items()}
