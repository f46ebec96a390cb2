"""The simulator's ground truth (`sim_truth`): written once per lead when `leadflow simulate`
ends, read by evaluators (never by the pipeline or a model's features)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import SimTruth


class SimTruthStore(StoreBase):
    """Ground-truth rows of simulated leads."""

    def record_sim_truth(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write (or rewrite) the truth of these leads; returns how many."""
        batch = [dict(row) for row in rows]
        if not batch:
            return 0
        with self.transaction() as conn:
            conn.execute(delete(SimTruth).where(
                SimTruth.lead_id.in_([row["lead_id"] for row in batch])))
            conn.execute(insert(SimTruth), batch)
        return len(batch)

    def sim_truth(self) -> list[dict[str, Any]]:
        """Every simulated lead's truth, in arrival order."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(SimTruth.__table__).order_by(
                SimTruth.arrived_at, SimTruth.lead_id)).mappings().all()
        return [dict(r) for r in rows]
