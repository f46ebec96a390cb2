"""The arithmetic every metric module shares: duration summaries, ratios and conditional
counts that run the same on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func
from sqlalchemy.engine import Connection


class Stat(BaseModel):
    """A set of durations: count, sum, mean and nearest-rank percentiles."""

    count: int = 0
    total: float = 0.0
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Stat:
        ordered = sorted(values)
        if not ordered:
            return cls()
        total = math.fsum(ordered)
        return cls(count=len(ordered), total=round(total, 3),
                   mean=round(total / len(ordered), 3), p50=_rank(ordered, 0.5),
                   p95=_rank(ordered, 0.95), max=ordered[-1])


def _rank(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that really occurred, no interpolation."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def scalar_count(conn: Connection, query: Any) -> int:
    return int(conn.execute(query).scalar() or 0)


def count_if(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a conditional count in any dialect."""
    return func.sum(case((condition, 1), else_=0))
