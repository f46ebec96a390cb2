"""Training a conversion model and using one: candidates, calibration, the choice between
them by measurement on a time-based validation slice, priorities and per-lead factors.

A model is stored as bytes (pickle) with their sha256; the bytes hold only scikit-learn
objects and plain data (no leadflow classes), so a stored model does not depend on this
module's code staying the same. Loading checks the digest first (`load`).
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from statistics import median
from typing import Any

import numpy as np

from leadflow.scoring import metrics
from leadflow.scoring.features import Example, Features, ScoringConfig, time_split

PRIORITIES = ("A", "B", "C", "D")  # A: the top quartile of the training scores


class ColdStart(Exception):
    """Too little history to train on: the rules stay in charge."""


class BrokenModel(Exception):
    """A stored model whose bytes do not match their digest, or do not load."""


def _logistic() -> Any:
    """Standardised features, L2 strength chosen by an inner 5-fold log loss: a CRM with a
    few hundred settled leads needs strong shrinkage (on the simulator's development seeds
    the choice lands near C = 0.01), one with many thousands less."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=[0.003, 0.01, 0.03, 0.1, 0.3, 1.0], l1_ratios=(0.0,), cv=5,
        scoring="neg_log_loss", max_iter=5000, use_legacy_attributes=False))


def _gradient_boosting() -> Any:
    """Shallow, slow, well-regularised trees: interactions (region × arrival, rep ×
    segment) without memorising a few hundred leads."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_depth=2, learning_rate=0.03, max_iter=150,
                                          min_samples_leaf=30, l2_regularization=1.0,
                                          random_state=0)


# Each candidate is calibrated (Platt scaling, cross-fitted inside the training data):
# isotonic calibration needs more positives than a few hundred leads give.
CANDIDATES: dict[str, Callable[[], Any]] = {"logistic": _logistic,
                                            "gradient_boosting": _gradient_boosting}


CALIBRATIONS = ("sigmoid", "isotonic")  # Platt scaling; a monotone step map


def _calibrated(kind: str, labels: Sequence[bool], method: str = "sigmoid") -> Any:
    from sklearn.calibration import CalibratedClassifierCV

    fewest = min(sum(labels), len(labels) - sum(labels))
    # ensemble=False: the calibration map is fitted on cross-validated predictions and one
    # model on all the training leads scores (five times cheaper per lead than averaging
    # the folds' models, which matters when every settled lead is scored)
    return CalibratedClassifierCV(CANDIDATES[kind](), method=method,
                                  cv=max(2, min(5, fewest)), ensemble=False)


@cache
def _threadpools() -> Any:
    """The process's native thread pools (OpenMP, BLAS), found once: finding them reads
    /proc/self/maps, which cost more than a lead's whole score when done per call."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_thread() -> Any:
    """Fit and predict on one thread: for a few hundred leads, OpenMP's threads cost more
    than they save (seven times, for gradient boosting on a busy two-core machine)."""
    return _threadpools().limit(limits=1)


def _reference(rows: Sequence[Features]) -> dict[str, float | str | None]:
    """The typical value of each feature in training (median number, commonest category;
    None: usually absent) — what a lead's factors are measured against."""
    keys = sorted({k for row in rows for k in row})
    out: dict[str, float | str | None] = {}
    for key in keys:
        values = [row.get(key) for row in rows]
        if all(isinstance(v, float | int) or v is None for v in values):
            out[key] = float(median(float(v) if v is not None else 0.0 for v in values))
        else:
            out[key] = Counter(values).most_common(1)[0][0]
    return out


def tier_rates(examples: Sequence[Example]) -> dict[str, float]:
    """Each tier's share of converted leads among these (the tier feature is the rules')."""
    seen: dict[str, list[bool]] = {}
    for e in examples:
        seen.setdefault(str(e.features.get("tier")), []).append(e.label)
    return {t: round(sum(labels) / len(labels), 4) for t, labels in sorted(seen.items())}


@dataclass
class ConversionModel:
    """A trained, calibrated conversion model and what it needs to explain itself."""

    kind: str
    vectorizer: Any  # sklearn DictVectorizer
    classifier: Any  # sklearn CalibratedClassifierCV
    reference: dict[str, float | str | None]
    cuts: tuple[float, float, float]  # the training scores' quartiles (D|C|B|A)
    # each tier's conversion rate among the training leads: what `blend` compares with
    tier_rates: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(cls, kind: str, train: Sequence[Example],
            calibration: str = "sigmoid") -> ConversionModel:
        from sklearn.feature_extraction import DictVectorizer

        rows = [e.features for e in train]
        labels = [e.label for e in train]
        vectorizer = DictVectorizer(sparse=False)
        x = vectorizer.fit_transform(rows)
        with _one_thread():
            classifier = _calibrated(kind, labels, calibration).fit(
                x, np.asarray(labels, dtype=int))
        model = cls(kind=kind, vectorizer=vectorizer, classifier=classifier,
                    reference=_reference(rows), cuts=(0.0, 0.0, 0.0),
                    tier_rates=tier_rates(train))
        q = np.quantile(model.probabilities(rows), [0.25, 0.5, 0.75])
        model.cuts = (float(q[0]), float(q[1]), float(q[2]))
        return model

    def probabilities(self, rows: Sequence[Features]) -> np.ndarray:
        x = self.vectorizer.transform(list(rows))
        with _one_thread():
            return np.asarray(self.classifier.predict_proba(x)[:, 1], dtype=float)

    def priority(self, probability: float) -> str:
        """A–D by the quartile of the training scores the probability falls in."""
        above = sum(probability >= cut for cut in self.cuts)
        return PRIORITIES[3 - above]

    def factors(self, features: Features, top: int) -> list[dict[str, Any]]:
        """The features that move this lead's score most, either way: each one set back to
        its typical value, by how much the score's log-odds change."""
        return self.score(features, top)["factors"]

    def score(self, features: Features, top: int) -> dict[str, Any]:
        """The lead's probability, priority and top factors (one prediction of the lead and
        of each variant with one feature set back to its typical value)."""
        keys = [k for k in sorted(set(features) | set(self.reference))
                if features.get(k) != self.reference.get(k)] if top > 0 else []
        variants: list[Features] = [features]
        for key in keys:
            variant = dict(features)
            typical = self.reference.get(key)
            if typical is None:
                variant.pop(key, None)
            else:
                variant[key] = typical
            variants.append(variant)
        p = self.probabilities(variants)
        probability = float(p[0])
        clipped = np.clip(p, 1e-6, 1 - 1e-6)
        logits = np.log(clipped / (1 - clipped))
        effects = [(key, float(logits[0] - logits[i + 1])) for i, key in enumerate(keys)]
        effects = [e for e in effects if abs(e[1]) >= 1e-4]
        effects.sort(key=lambda e: (-abs(e[1]), e[0]))
        return {"probability": round(probability, 4), "priority": self.priority(probability),
                "factors": [{"feature": key, "value": features.get(key),
                             "effect": round(effect, 3),
                             "direction": "raises" if effect > 0 else "lowers"}
                            for key, effect in effects[:top]]}

    def dumps(self) -> bytes:
        return pickle.dumps({"format": 1, "kind": self.kind, "vectorizer": self.vectorizer,
                             "classifier": self.classifier, "reference": self.reference,
                             "cuts": list(self.cuts), "tier_rates": dict(self.tier_rates)},
                            protocol=pickle.HIGHEST_PROTOCOL)


def digest(artefact: bytes) -> str:
    return hashlib.sha256(artefact).hexdigest()


def load(artefact: bytes, sha256: str) -> ConversionModel:
    """The model in these bytes, once their digest matches the stored one. The bytes come
    from the CRM's own `models` table, written by `leadflow model train`."""
    if digest(artefact) != sha256:
        raise BrokenModel("the stored model's bytes do not match their sha256")
    try:
        data = pickle.loads(artefact)  # noqa: S301 — our own table, digest checked
        cuts = tuple(float(c) for c in data["cuts"])
        return ConversionModel(kind=data["kind"], vectorizer=data["vectorizer"],
                               classifier=data["classifier"], reference=data["reference"],
                               cuts=(cuts[0], cuts[1], cuts[2]),
                               tier_rates={str(k): float(v) for k, v in
                                           (data.get("tier_rates") or {}).items()})
    except Exception as exc:  # an artefact of another library version, or not ours
        raise BrokenModel(f"the stored model does not load: {exc}") from exc


@dataclass
class Trained:
    """What `train` made: the chosen model and every measurement behind the choice."""

    model: ConversionModel
    metrics: dict[str, Any]
    features: list[str]
    n_train: int
    n_test: int


def cold_start_reason(examples: Sequence[Example], config: ScoringConfig) -> str | None:
    n, k = len(examples), sum(e.label for e in examples)
    if n >= config.min_leads and k >= config.min_conversions:
        return None
    return (f"cold start: {n} settled leads with {k} conversions within "
            f"{config.horizon_days:g} days (need {config.min_leads} with ≥ "
            f"{config.min_conversions}); the rules stay in charge")


def _both_classes(examples: Sequence[Example]) -> bool:
    return 0 < sum(e.label for e in examples) < len(examples)


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def train(examples: Sequence[Example], config: ScoringConfig) -> Trained:
    """Fit each candidate, choose one by measurement, report it on the held-out newest
    leads. Raises ColdStart when the history is too small (or one-sided) to learn from."""
    reason = cold_start_reason(examples, config)
    if reason:
        raise ColdStart(reason)
    fit_set, test = time_split(examples, config.test_fraction)
    inner, validation = time_split(fit_set, config.validation_fraction)
    for name, part in (("training", fit_set), ("test", test), ("validation", validation),
                       ("inner training", inner)):
        if not _both_classes(part):
            raise ColdStart(f"cold start: the {name} leads are all one outcome "
                            f"({len(part)} leads); the rules stay in charge")
    # One candidate per model kind and calibration map (scoring.yaml `calibrations`): named
    # by the kind alone while there is one map, as models trained before the choice were.
    options = {(kind if len(config.calibrations) == 1 else f"{kind}+{method}"): (kind, method)
               for kind in CANDIDATES for method in config.calibrations}
    candidates: dict[str, dict[str, Any]] = {}
    for name, (kind, method) in options.items():
        on_validation = ConversionModel.fit(kind, inner, method).probabilities(
            [e.features for e in validation])
        candidates[name] = {"validation": metrics.summary(
            on_validation, [e.label for e in validation])}
    # The choice: the lower validation log loss, a proper scoring rule that rewards both
    # the ordering (what the priority uses) and the calibration (what the probability says).
    chosen = min(candidates, key=lambda k: (candidates[k]["validation"]["log_loss"], k))
    labels = [e.label for e in test]
    baseline = [e.baseline for e in test]
    fitted: dict[str, ConversionModel] = {}
    for name, (kind, method) in options.items():  # for comparison; the choice never saw them
        fitted[name] = ConversionModel.fit(kind, fit_set, method)
        candidates[name]["test"] = metrics.summary(
            fitted[name].probabilities([e.features for e in test]), labels, baseline)
    model = fitted[chosen]
    on_test = model.probabilities([e.features for e in test])
    headline = candidates[chosen]["test"]
    result = {
        "auc": headline["auc"], "baseline_auc": headline["baseline_auc"],
        "lift_top_decile": _finite(headline["lift_top_decile"]), "ece": headline["ece"],
        "ece_noise_floor": headline["ece_noise_floor"],
        "n_train": len(fit_set), "n_test": len(test),
        "positives_train": sum(e.label for e in fit_set), "positives_test": sum(labels),
        "chosen": chosen, "calibration": options[chosen][1],
        # why the ECE is what it is: the test leads per bin of its definition (fixed: 10
        # equal-width bins), and how often a perfectly calibrated score would reach 0.05
        "reliability": metrics.reliability(on_test, labels),
        "ece_chance_within_0_05": metrics.chance_within(on_test, 0.05),
        "why": (f"{chosen} had the lower log loss on the validation leads (the newest "
                f"{len(validation)} of the training period)"),
        "candidates": candidates,
        "horizon_days": config.horizon_days,
        "positive_events": list(config.positive_events),
        "train_period": [fit_set[0].arrived_at.isoformat(), fit_set[-1].arrived_at.isoformat()],
        "test_period": [test[0].arrived_at.isoformat(), test[-1].arrived_at.isoformat()],
        "priority_cuts": [round(c, 4) for c in model.cuts],
        "tier_rates": model.tier_rates,
        # what `leadflow model drift` compares recent leads with (docs/models.md)
        "score_deciles": [round(float(q), 4) for q in np.quantile(
            model.probabilities([e.features for e in fit_set]), np.linspace(0.1, 0.9, 9))],
    }
    return Trained(model=model, metrics=_json_safe(result),
                   features=sorted({k for e in fit_set for k in e.features}),
                   n_train=len(fit_set), n_test=len(test))


def _json_safe(value: Any) -> Any:
    """NaN (a metric of a one-sided set) as null: PostgreSQL's JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def headline(m: dict[str, Any]) -> str:
    """The one line `leadflow model train` prints."""
    def f(value: Any) -> str:
        return "nan" if value is None else f"{float(value):.3f}"

    return (f"model: auc={f(m['auc'])} baseline_auc={f(m['baseline_auc'])} "
            f"lift_top_decile={f(m['lift_top_decile'])} ece={f(m['ece'])} "
            f"n_train={m['n_train']} n_test={m['n_test']}")
