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
from leadflow.scoring.policy import (
    blended_tier,
    person_decided,
    priority_note,
    rep_tiers_best_first,
    scoring_policy,
)
from leadflow.tools.notifier import Notice

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
                          "scored_at": at.isoformat() if hasattr(at, "isoformat") else at,
                          "mode": scoring_policy().mode}
            if conversion["mode"] == "blend":
                move = _tier_move(tools, record, conversion, version, str(entry["sha256"]))
                if move is not None:
                    conversion["tier_change"] = move
    return conversion


def _tier_move(tools: Toolbox, record: Mapping[str, Any], conversion: Mapping[str, Any],
               version: int, sha256: str) -> dict[str, str] | None:
    """`blend`: the one-tier move this score calls for (docs/models.md), never on a lead a
    person decided."""
    if person_decided(record.get("flags") or (), record.get("decisions") or ()):
        return None
    rules = tools.icp
    move = blended_tier(
        (record.get("bant") or {}).get("tier"), float(conversion["probability"]),
        str(conversion["priority"]),
        rep_tiers_best_first([t.name for t in sorted(rules.tiers, key=lambda t: -t.min)],
                             rules.routing.get("assign_tiers") or ()),
        _model(tools, version, sha256).tier_rates)
    return None if move is None else move.as_dict()


def tier_change_flag(change: Mapping[str, Any]) -> str:
    """`model_raised_tier` / `model_lowered_tier`: the outcome's flag for a `blend` move."""
    return f"model_{'raised' if change.get('direction') == 'up' else 'lowered'}_tier"


def tell_owner_of_move(tools: Toolbox, state: Mapping[str, Any],
                       conversion: Mapping[str, Any]) -> None:
    """The lead's owner hears that the model moved its tier (once: keyed by lead and step)."""
    change = conversion.get("tier_change") or {}
    assignment = state.get("assignment") or {}
    person = tools.reps.person(str(assignment.get("rep_id") or ""))
    company = ((state.get("lead") or {}).get("company") or {}).get("name")
    lead_id = str(state.get("lead_id") or "")
    tools.notifier.send(
        Notice(audience="rep" if assignment.get("kind", "rep") == "rep" else "sales_manager",
               recipient=person.email if person else None,
               subject=(f"Tier {change.get('from')} → {change.get('to')} for "
                        f"{company or lead_id}{priority_note(conversion)}"),
               body=f"{change.get('reason')}. The rules' tier was {change.get('from')}."),
        lead_id=lead_id, step="scoring:tier_change", now=tools.clock.now())
