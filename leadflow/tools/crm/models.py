"""Conversion models and their scores (docs/models.md): the history a model is trained on
(leads and their engagement events — never `sim_truth`), the versioned models themselves, and
the score each model gave each lead it scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import Assignment, EngagementEvent, Lead, LeadScore, ModelRow
from leadflow.tools.crm_reads import as_utc

SUMMARY = (ModelRow.version, ModelRow.kind, ModelRow.status, ModelRow.created_at,
           ModelRow.trained_through, ModelRow.horizon_days, ModelRow.n_train, ModelRow.n_test,
           ModelRow.metrics, ModelRow.sha256, ModelRow.promoted_at, ModelRow.retired_at,
           ModelRow.replaces)


@dataclass(frozen=True)
class StoredLead:
    """A settled lead as the CRM stores it, read back for training."""

    lead_id: str
    arrived_at: datetime | None  # the lead row's received_at, else ingested_at
    record: Mapping[str, Any]  # the lead record (contact, company, source, inquiry)
    outcome: Mapping[str, Any]  # the outcome record (qualification, flags …)
    routed_to: str | None = None  # the rep (or manager) routing assigned, before any reassignment


def routed_to(rep_id: str | None, audit: Mapping[str, Any] | None) -> str | None:
    """The rep routing assigned: the first reassignment's `from`, else the current rep."""
    moves = (audit or {}).get("reassignments") or []
    return str(moves[0].get("from") or rep_id) if moves else rep_id


class NoSuchModel(LookupError):
    """A model version the CRM does not hold, or not in the state an action needs."""


class ModelStore(StoreBase):
    """The training history, the `models` table and `lead_scores`."""

    # ------------------------------------------------------------------ training history

    def history_leads(self) -> list[StoredLead]:
        """Every settled lead with its record, outcome and the rep routing gave it (a
        duplicate merged into another lead has no outcome of its own and is left out)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Lead.id, Lead.received_at, Lead.ingested_at,
                                       Lead.record, Lead.outcome, Assignment.rep_id,
                                       Assignment.audit)
                                .outerjoin(Assignment, Assignment.lead_id == Lead.id)
                                .where(Lead.outcome.is_not(None))).all()
        return [StoredLead(lead_id=r.id, arrived_at=r.received_at or r.ingested_at,
                           record=r.record or {}, outcome=r.outcome or {},
                           routed_to=routed_to(r.rep_id, r.audit)) for r in rows]

    def history_events(self, types: Iterable[str]) -> dict[str, list[tuple[str, datetime]]]:
        """The engagement events of these types, per lead."""
        out: dict[str, list[tuple[str, datetime]]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(EngagementEvent.lead_id, EngagementEvent.event_type,
                                       EngagementEvent.occurred_at)
                                .where(EngagementEvent.event_type.in_(list(types)))).all()
        for lead_id, kind, at in rows:
            out.setdefault(lead_id, []).append((kind, at))
        return out

    def latest_moment(self) -> datetime | None:
        """The CRM's latest recorded moment (an event, a lead's last change): how far its
        history reaches, so a lead is labelled only once its horizon is within it."""
        with self.engine.connect() as conn:
            moments = [conn.execute(select(func.max(EngagementEvent.occurred_at))).scalar(),
                       conn.execute(select(func.max(Lead.updated_at))).scalar()]
        known = [_utc(m) for m in moments if m is not None]
        return max(known) if known else None

    # ------------------------------------------------------------------ models

    def save_model(self, *, kind: str, now: datetime, trained_through: datetime,
                   horizon_days: float, n_train: int, n_test: int, metrics: Mapping[str, Any],
                   features: Sequence[str], artefact: bytes, sha256: str) -> int:
        """Store a new model in shadow; its version (one above the newest)."""
        with self.transaction() as conn:
            newest = conn.execute(select(func.max(ModelRow.version))).scalar() or 0
            version = int(newest) + 1
            conn.execute(insert(ModelRow).values(
                version=version, kind=kind, status="shadow", created_at=now,
                trained_through=trained_through, horizon_days=horizon_days, n_train=n_train,
                n_test=n_test, metrics=dict(metrics), features=list(features),
                artefact=artefact, sha256=sha256))
        return version

    def models(self) -> list[dict[str, Any]]:
        """Every model without its bytes, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(*SUMMARY).order_by(ModelRow.version.desc())).mappings()
            return [dict(r) for r in rows]

    def model(self, version: int) -> dict[str, Any] | None:
        """One model without its bytes (None: no such version)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*SUMMARY, ModelRow.features)
                               .where(ModelRow.version == version)).mappings().first()
        return None if row is None else dict(row)

    def model_artefact(self, version: int) -> tuple[bytes, str]:
        with self.engine.connect() as conn:
            row = conn.execute(select(ModelRow.artefact, ModelRow.sha256)
                               .where(ModelRow.version == version)).first()
        if row is None:
            raise NoSuchModel(f"no model {version}")
        return bytes(row.artefact), str(row.sha256)

    def scoring_models(self) -> list[dict[str, Any]]:
        """The models that score new leads: the promoted one, and the newest shadow model
        trained after it (each: version, status, sha256)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(ModelRow.version, ModelRow.status, ModelRow.sha256)
                                .where(ModelRow.status.in_(("promoted", "shadow")))
                                .order_by(ModelRow.version.desc())).mappings().all()
        promoted = [dict(r) for r in rows if r["status"] == "promoted"][:1]
        floor = promoted[0]["version"] if promoted else 0
        shadow = [dict(r) for r in rows if r["status"] == "shadow" and r["version"] > floor][:1]
        return promoted + shadow

    def promote_model(self, version: int | None, now: datetime) -> tuple[int, int | None]:
        """Promote a model (default: the newest in shadow); the one it replaces is retired.
        Returns (promoted, retired or None)."""
        with self.transaction() as conn:
            if version is None:
                version = conn.execute(select(func.max(ModelRow.version))
                                       .where(ModelRow.status == "shadow")).scalar()
                if version is None:
                    raise NoSuchModel("no model in shadow to promote (train one first)")
            status = conn.execute(select(ModelRow.status)
                                  .where(ModelRow.version == version)).scalar()
            if status is None:
                raise NoSuchModel(f"no model {version}")
            if status == "promoted":
                raise NoSuchModel(f"model {version} is already promoted")
            current = conn.execute(select(ModelRow.version)
                                   .where(ModelRow.status == "promoted")).scalar()
            if current is not None:
                conn.execute(update(ModelRow).where(ModelRow.version == current)
                             .values(status="retired", retired_at=now))
            conn.execute(update(ModelRow).where(ModelRow.version == version)
                         .values(status="promoted", promoted_at=now, retired_at=None,
                                 replaces=current))
        return int(version), current

    def rollback_model(self, now: datetime) -> tuple[int, int | None]:
        """Retire the promoted model and promote again the one it replaced (None: it
        replaced none, and the rules alone are in charge). Rollbacks walk back through the
        promotions, as undo does. Returns (retired, restored)."""
        with self.transaction() as conn:
            current = conn.execute(select(ModelRow.version, ModelRow.replaces)
                                   .where(ModelRow.status == "promoted")).first()
            if current is None:
                raise NoSuchModel("no promoted model to roll back")
            conn.execute(update(ModelRow).where(ModelRow.version == current.version)
                         .values(status="retired", retired_at=now))
            previous = current.replaces
            if previous is not None:  # keeps its own `replaces`: the next rollback's target
                conn.execute(update(ModelRow).where(ModelRow.version == previous)
                             .values(status="promoted", promoted_at=now, retired_at=None))
        return int(current.version), previous

    # ------------------------------------------------------------------ scores

    def record_score(self, lead_id: str, version: int, mode: str, score: Mapping[str, Any],
                     now: datetime) -> bool:
        """Keep a model's score of a lead (the first one: a re-settled lead keeps it)."""
        with self.transaction() as conn:
            return self._insert_ignore(conn, LeadScore.__table__, {
                "lead_id": lead_id, "model_version": version, "mode": mode,
                "probability": float(score["probability"]), "priority": score["priority"],
                "factors": list(score.get("factors") or []), "scored_at": now})

    def scores_for(self, lead_id: str) -> list[dict[str, Any]]:
        """Every model's stored score of this lead, newest model first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(LeadScore.__table__).where(LeadScore.lead_id == lead_id)
                                .order_by(LeadScore.model_version.desc())).mappings().all()
        return [dict(r) for r in rows]

    def model_scores(self, version: int) -> list[tuple[str, float, datetime]]:
        """(lead, probability, when) of every lead this model scored: what drift reads."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(LeadScore.lead_id, LeadScore.probability,
                                       LeadScore.scored_at)
                                .where(LeadScore.model_version == version)).all()
        return [(str(r[0]), float(r[1]), _utc(r[2])) for r in rows]


def _utc(value: Any) -> datetime:
    """A moment as a driver returns it from an aggregate (SQLite: naive, or a string)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)
