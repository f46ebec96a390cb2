"""What a replay changed: tiers, routes, queue volumes, rep loads and the expected
conversions under the promoted model — computed from both sides of every lead the same way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadflow.scoring.features import arrival_of, in_population, routing_features
from leadflow.whatif.config import ReplayConfig
from leadflow.whatif.history import Placement
from leadflow.whatif.replay import Replay

NONE = "—"


@dataclass(frozen=True)
class Scorer:
    """The promoted conversion model, scoring a placement as `leadflow model train` built
    its training rows (the lead record, its qualification and flags, the rep routing chose)."""

    version: int
    model: Any  # leadflow.scoring.model.ConversionModel

    def probability(self, placed: Placement, config: ReplayConfig) -> float | None:
        bant = placed.outcome.get("bant") or None
        if not in_population(bant, config.icp.routing.get("assign_tiers") or ()):
            return None
        features = routing_features(
            placed.record, bant, placed.outcome.get("flags") or (),
            arrived=arrival_of(placed.record, placed.arrived), routed_to=placed.rep_id,
            target_tech=config.icp.target_tech, routing_flags=config.scoring.routing_flags)
        return float(self.model.score(features, 0)["probability"])


def load_scorer(found: tuple[int, bytes, str] | None) -> Scorer | None:
    if found is None:
        return None
    from leadflow.scoring.model import load

    version, artefact, sha256 = found
    return Scorer(version, load(artefact, sha256))


def compare(replay: Replay, current: ReplayConfig, scorer: Scorer | None) -> dict[str, Any]:
    """The comparison as plain data (what `--json` prints and the tables show)."""
    history = replay.history
    rows: list[dict[str, Any]] = []
    for lead_id, arrived in history.window:
        was, now = replay.before.get(lead_id), replay.after.get(lead_id)
        rows.append({
            "lead_id": lead_id, "arrived_at": arrived.isoformat(),
            "tier_before": was.tier if was else None, "tier_after": now.tier if now else None,
            "route_before": was.route if was else None,
            "route_after": now.route if now else None,
            "p_before": scorer.probability(was, current) if scorer and was else None,
            "p_after": scorer.probability(now, replay.config) if scorer and now else None,
        })
    tier_changes = [r for r in rows if r["tier_before"] != r["tier_after"]]
    route_changes = [r for r in rows if r["route_before"] != r["route_after"]]
    matrix = Counter((r["tier_before"] or NONE, r["tier_after"] or NONE) for r in rows)

    def volumes(side: Mapping[str, Placement]) -> Counter[str]:
        return Counter(side[i].kind if i in side else NONE for i, _ in history.window)

    def loads(side: Mapping[str, Placement]) -> Counter[str]:
        return Counter(p.rep_id for i, _ in history.window
                       if (p := side.get(i)) is not None and p.rep_id)

    expected: dict[str, Any] = {"model_version": None, "before": None, "after": None}
    if scorer is not None:
        expected = {
            "model_version": scorer.version,
            "before": round(sum(r["p_before"] or 0.0 for r in rows), 3),
            "after": round(sum(r["p_after"] or 0.0 for r in rows), 3),
            "scored_before": sum(r["p_before"] is not None for r in rows),
            "scored_after": sum(r["p_after"] is not None for r in rows)}
    return {
        "window": {"start": history.start.isoformat(), "end": history.end.isoformat(),
                   "leads": len(rows)},
        "config_files": list(replay.config.files), "notes": list(replay.config.notes),
        "model": replay.model, "seconds": round(replay.seconds, 1),
        "stopped_after": "routing",
        "tier_changes": len(tier_changes),
        "tier_matrix": [{"before": b, "after": a, "leads": n}
                        for (b, a), n in sorted(matrix.items())],
        "routing_changes": len(route_changes),
        "routes": [{k: r[k] for k in ("lead_id", "arrived_at", "tier_before", "tier_after",
                                      "route_before", "route_after")} for r in route_changes],
        "queue_volumes": _side_by_side(volumes(replay.before), volumes(replay.after)),
        "rep_loads": _side_by_side(loads(replay.before), loads(replay.after)),
        "expected_conversions": expected,
        "reviews_replayed": replay.reviews,
        "missing_items": replay.missing_items, "errors": replay.errors,
        "changes": len(tier_changes) + len(route_changes),
    }


def _side_by_side(before: Counter[str], after: Counter[str]) -> list[dict[str, Any]]:
    return [{"name": name, "before": before.get(name, 0), "after": after.get(name, 0)}
            for name in sorted(set(before) | set(after))]
