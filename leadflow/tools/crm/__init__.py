"""The CRM: a real SQL database through SQLAlchemy 2 (SQLite by default, or PostgreSQL).

Every write a node makes goes through an idempotent function keyed by lead and step (unique
constraints + insert-or-ignore), so a retried or resumed node never repeats its side effects.

One concept per module: `schema` (tables), `base` (engine, transactions, insert-or-ignore),
`leads` (capture and dedupe), `queues`, `assignments` (assignments, rep loads, SLA clocks),
`engagement` (events, outreach drafts), `outbox` (notifications, message log),
`leases` (one runner per lead), `mailboxes` (where `leadflow watch` is in each
mailbox), `bookings` (meeting slots taken: one lead per rep and slot start),
`erasure` (forgetting a person, retention), `simulation` (the simulator's ground truth),
`models` (conversion models, their training history and scores), `outreach_styles` (the
first-email styles' running counts for the outreach bandit), `hubspot_map` (the HubSpot
sync's mapping of leadflow records to HubSpot objects);
`store.CrmStore` composes them. Import from here. The names stored (queues, statuses) and the
reads that only show what is stored (lead list, queue counts and items) are in
`leadflow.tools.crm_reads`, which the light CLI commands use without SQLAlchemy.
"""

from collections.abc import Sequence

from leadflow.clock import parse_datetime
from leadflow.tools.crm.leads import CaptureWrite, name_key
from leadflow.tools.crm.schema import (
    Account,
    Assignment,
    Base,
    Contact,
    EngagementEvent,
    Erasure,
    HubSpotObject,
    Lead,
    LeadScore,
    LeadSource,
    MailboxCursor,
    MeetingBooking,
    MessageLog,
    ModelRow,
    Notification,
    QueueItem,
    RepStats,
    SimTruth,
    SlaClock,
    UtcDateTime,
    column_length,
)
from leadflow.tools.crm.store import CrmStore
from leadflow.tools.crm_reads import INTAKE, QUEUES, STATUSES, CrmReader

__all__: Sequence[str] = (
    "CrmStore", "CrmReader", "CaptureWrite", "INTAKE", "QUEUES", "STATUSES", "column_length",
    "name_key",
    "Account", "Contact", "Lead", "LeadSource", "Assignment", "MessageLog", "Notification",
    "RepStats",
    "QueueItem", "EngagementEvent", "SlaClock", "Erasure", "MailboxCursor", "SimTruth",
    "MeetingBooking",
    "ModelRow", "LeadScore", "HubSpotObject",
    # imported by name elsewhere: Alembic's env (Base, UtcDateTime), capture (parse_datetime)
    "Base", "UtcDateTime", "parse_datetime",
)
