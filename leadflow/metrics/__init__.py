"""Sales-ops metrics (SPEC §9) computed from the CRM, for the dashboard and Prometheus.

Counts come from SQL aggregates (SQLAlchemy Core, portable between SQLite and PostgreSQL);
what only the JSON outcome record knows (per-step timing, outcome and error type, flags, the
enriched record) is read from `leads.outcome` in Python, one streamed pass. Durations that
need date arithmetic are subtracted in Python too: date maths is the least portable SQL.

`dashboard` assembles the snapshot from `pipeline` (the outcome records), `queues`,
`funnel` and `workload`; `prometheus` renders it; `aggregates` holds the shared arithmetic.
"""

from leadflow.metrics.aggregates import Stat
from leadflow.metrics.dashboard import DashboardMetrics, snapshot
from leadflow.metrics.pipeline import AGENTS
from leadflow.metrics.prometheus import prometheus_text
from leadflow.metrics.queues import ReviewItem, ReviewQueue

__all__ = ["AGENTS", "DashboardMetrics", "ReviewItem", "ReviewQueue", "Stat", "prometheus_text",
           "snapshot"]
