"""The one `CrmStore` the rest of leadflow holds, composed from the concern mixins so each
part of the CRM can be read on its own.
"""

from __future__ import annotations

from leadflow.tools.crm.assignments import AssignmentStore
from leadflow.tools.crm.bookings import BookingStore
from leadflow.tools.crm.bulk import BulkStore
from leadflow.tools.crm.engagement import EngagementStore
from leadflow.tools.crm.erasure import ErasureStore
from leadflow.tools.crm.hubspot_map import HubSpotMapStore
from leadflow.tools.crm.leads import LeadStore
from leadflow.tools.crm.leases import LeaseStore
from leadflow.tools.crm.mailboxes import MailboxStore
from leadflow.tools.crm.models import ModelStore
from leadflow.tools.crm.outbox import OutboxStore
from leadflow.tools.crm.outreach_styles import OutreachStyleStore
from leadflow.tools.crm.queues import QueueStore
from leadflow.tools.crm.simulation import SimTruthStore


class CrmStore(LeadStore, QueueStore, AssignmentStore, EngagementStore, OutboxStore,
               LeaseStore, BulkStore, ErasureStore, MailboxStore,
               SimTruthStore, BookingStore,
               ModelStore, OutreachStyleStore, HubSpotMapStore):
    """All CRM reads and writes. Thread-safe: one engine, short transactions."""
