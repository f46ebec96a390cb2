"""Scoring each lead as it settles (`leadflow.outcome.persist_outcome`).

Once a model exists, every lead the rules hand to a rep is scored when its outcome is stored,
and the score is kept in `lead_scores`: by the newest model in shadow (stored, not acted on)
and by the promoted model, whose score the outcome record also carries as `conversion`
(probability, priority A–D, model version, top factors with their direction). Scoring never
fails a lead: a model that does not load or score is a logged warning, and the lead proceeds
as the rules decided. Without any model, this is one small query per settled lead and
scikit-learn is never imported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from leadflow.scoring.features import arrival_of, in_population, routing_features, scoring_config

if TYPE_CHECKING:
    from leadflow.scoring.model import ConversionModel
    from leadflow.toolbox import Toolbox

log = logging.getLogger(__name__)

_loaded: dict[str, ConversionModel] = {}  # by sha256: the bytes, hence the model, never change
_lock = threading.Lock()


def _model(tools: Toolbox, version: int, sha256: str) -> ConversionModel:
    found = _loaded.get(sha256)
    if found is not None:
        return found
    with _lock:
        if sha256 not in _loaded:
            from leadflow.scoring.model import load

            artefact, stored_sha = tools.crm.model_artefact(version)
            _loaded[sha256] = load(artefact, stored_sha)
        return _loaded[sha256]


def conversion_for(tools: Toolbox, record: Mapping[str, Any],
                   lead: Mapping[str, Any]) -> dict[str, Any] | None:
    """Score this settling lead with the models in use and store the scores; the promoted
    model's score as the outcome's `conversion` (None: no promoted model, the lead is not
    one a model scores, or scoring failed)."""
    lead_id = str(record.get("lead_id") or "")
    try:
        return _score(tools, record, lead, lead_id)
    except Exception:  # noqa: BLE001 — a score is advice: it must never fail a lead
        log.warning("conversion scoring failed for lead %s; it proceeds unscored", lead_id,
                    exc_info=True)
        return None


def _score(tools: Toolbox, record: Mapping[str, Any], lead: Mapping[str, Any],
           lead_id: str) -> dict[str, Any] | None:
    if not lead_id or "duplicate" in (record.get("flags") or []):
        return None
    bant = record.get("bant")
    if not in_population(bant, tools.icp.routing.get("assign_tiers") or ()):
        return None
    in_use = tools.crm.scoring_models()
    if not in_use:
        return None
    stored = {s["model_version"]: s for s in tools.crm.scores_for(lead_id)}
    config = scoring_config()
    now = tools.clock.now()
    conversion: dict[str, Any] | None = None
    for entry in in_use:
        version, mode = int(entry["version"]), str(entry["status"])
        score = stored.get(version)
        if score is None:
            try:
                features = routing_features(
                    lead, bant, record.get("flags") or (), arrived=arrival_of(lead, now),
                    routed_to=(record.get("assignment") or {}).get("rep_id"),
                    target_tech=tools.icp.target_tech, routing_flags=config.routing_flags)
                score = _model(tools, version, str(entry["sha256"])).score(
                    features, config.top_factors)
            except Exception:  # noqa: BLE001 — one broken model does not stop the other
                log.warning("model %s could not score lead %s; it proceeds unscored by it",
                            version, lead_id, exc_info=True)
                continue
            tools.crm.record_score(lead_id, version, mode, score, now)
            score = {**score, "scored_at": now}
        if mode == "promoted":
            at: Any = score.get("scored_at")
            conversion = {"probability": score["probability"], "priority": score["priority"],
                          "model_version": version, "factors": list(score.get("factors") or []),
                          "scored_at": at.isoformat() if hasattr(at, "isoformat") else at}
    return conversion
