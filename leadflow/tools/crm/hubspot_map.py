"""What the HubSpot sync reads and keeps in the CRM: the leadflow side of a lead (its row,
contact and account), the mapping of leadflow records to HubSpot objects
(`hubspot_objects`), and the account owners it reads back from HubSpot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from leadflow.tools.crm.base import StoreBase, dialect_insert
from leadflow.tools.crm.schema import Account, Contact, HubSpotObject, Lead


@dataclass(frozen=True)
class Mapped:
    hubspot_id: str
    owner_id: str | None


# What a lead's HubSpot state depends on: a change to any of them is a new sync.
SYNCED_LEAD_COLUMNS = ("status", "status_reason", "tier", "bant_total", "rep_id")


class HubSpotMapStore(StoreBase):
    """The mapping table and the reads and writes of the HubSpot sync."""

    def hubspot_object(self, object_type: str, leadflow_id: str) -> Mapped | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(HubSpotObject.hubspot_id, HubSpotObject.owner_id).where(
                HubSpotObject.object_type == object_type,
                HubSpotObject.leadflow_id == leadflow_id)).first()
        return None if row is None else Mapped(str(row.hubspot_id), row.owner_id)

    def map_hubspot_object(self, object_type: str, leadflow_id: str, hubspot_id: str,
                           owner_id: str | None, now: datetime) -> None:
        """Record (or move) the HubSpot object a leadflow record stands for."""
        values = {"object_type": object_type, "leadflow_id": leadflow_id,
                  "hubspot_id": hubspot_id, "owner_id": owner_id, "synced_at": now}
        with self.transaction() as conn:
            conn.execute(dialect_insert(conn)(HubSpotObject).values(**values)
                         .on_conflict_do_update(index_elements=["object_type", "leadflow_id"],
                                                set_={k: values[k] for k in (
                                                    "hubspot_id", "owner_id", "synced_at")}))

    def hubspot_objects(self, object_type: str) -> dict[str, Mapped]:
        """Every mapped object of one type: leadflow id → its HubSpot object."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(HubSpotObject.leadflow_id, HubSpotObject.hubspot_id,
                                       HubSpotObject.owner_id)
                                .where(HubSpotObject.object_type == object_type)).all()
        return {str(r.leadflow_id): Mapped(str(r.hubspot_id), r.owner_id) for r in rows}

    def hubspot_view(self, lead_id: str) -> dict[str, Any] | None:
        """The lead, its contact and its account as the sync writes them (None: no such
        lead, or its person was erased)."""
        with self.engine.connect() as conn:
            lead = conn.execute(select(Lead.__table__).where(Lead.id == lead_id)
                                ).mappings().first()
            if lead is None or lead["erased_at"] is not None:
                return None
            contact = conn.execute(select(Contact.__table__).where(
                Contact.id == lead["contact_id"])).mappings().first()
            account = conn.execute(select(Account.__table__).where(
                Account.id == lead["account_id"])).mappings().first()
        return {"lead": dict(lead), "contact": dict(contact) if contact else None,
                "account": dict(account) if account else None}

    def hubspot_sync_states(self, lead_ids: Sequence[str] | None = None,
                            ) -> list[dict[str, Any]]:
        """What each qualified, not erased lead's HubSpot state depends on (all such leads
        when `lead_ids` is None)."""
        query = select(Lead.id, *(getattr(Lead, c) for c in SYNCED_LEAD_COLUMNS)).where(
            Lead.tier.is_not(None), Lead.erased_at.is_(None)).order_by(Lead.id)
        if lead_ids is not None:
            query = query.where(Lead.id.in_(list(lead_ids)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def set_account_owner(self, account_id: int, rep_id: str | None) -> bool:
        """The account's owner as HubSpot now says (routing's account-owner rule reads it);
        True when it changed."""
        with self.transaction() as conn:
            result = conn.execute(update(Account).where(
                Account.id == account_id,
                Account.owner_rep_id.is_distinct_from(rep_id)).values(owner_rep_id=rep_id))
        return bool(result.rowcount)
