"""Leads, contacts and accounts: capture's dedupe-and-upsert (email, then account domain or
fuzzy company name) in one transaction, and the reads of the lead rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from leadflow.clock import parse_datetime
from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import Account, Contact, Lead, LeadSource, column_length
from leadflow.tools.crm_reads import LeadPage

_LEGAL_SUFFIXES = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|plc|gmbh|ag|kg|sa|s\.a|sas|sarl|srl|spa|s\.p\.a|bv|nv|"
    r"oy|ab|as|kk|k\.k|co|corp|corporation|company|pty|pte|group|holdings|ltda|sl|s\.l)\b\.?",
    re.IGNORECASE,
)


def name_key(name: str) -> str:
    """Comparable company name: 'Müller & Söhne GmbH' → 'müller and söhne'."""
    key = _LEGAL_SUFFIXES.sub(" ", name.lower().replace("&", " and "))
    return re.sub(r"[^\w]+", " ", key).strip()


@dataclass(frozen=True)
class CaptureWrite:
    """What the CRM knew after the capture step's upsert."""

    lead_id: str
    duplicate_of: str | None
    account_id: int | None
    account_owner: str | None
    account_matched_by: str | None  # domain | name | None (new account)


class LeadStore(StoreBase):
    """Capture writes and lead reads."""

    def capture_lead(
        self,
        *,
        lead_id: str,
        record: dict[str, Any],
        fingerprint: str,
        source_id: str | None,
        now: datetime,
    ) -> CaptureWrite:
        """Dedupe (email, then account domain / fuzzy name) and upsert, in one transaction.

        Two items with the same email racing each other: the loser's insert hits the unique
        key, and its retry sees the winner's lead and becomes a duplicate of it."""
        try:
            return self._capture_once(lead_id=lead_id, record=record, fingerprint=fingerprint,
                                      source_id=source_id, now=now)
        except IntegrityError:
            return self._capture_once(lead_id=lead_id, record=record, fingerprint=fingerprint,
                                      source_id=source_id, now=now)

    def _capture_once(self, *, lead_id: str, record: dict[str, Any], fingerprint: str,
                      source_id: str | None, now: datetime) -> CaptureWrite:
        contact = record.get("contact", {})
        company = record.get("company", {})
        source = record.get("source", {})
        email = (contact.get("email") or "").lower() or None
        with self.transaction() as conn:
            known = conn.execute(select(Lead.id).where(
                (Lead.id == lead_id) | (Lead.email_key == email) if email else Lead.id == lead_id
            )).scalars().all()
            existing = lead_id if lead_id in known else None
            by_email = None if existing else next(iter(known), None)
            account_id, owner, matched_by = self._upsert_account(conn, company, now)
            canonical = existing or by_email or lead_id
            contact_id = self._upsert_contact(conn, contact, account_id)
            if existing is None and by_email is None:
                conn.execute(
                    insert(Lead).values(
                        id=lead_id, email_key=email, contact_id=contact_id, account_id=account_id,
                        status=None, channel=source.get("channel"), record=record,
                        received_at=parse_datetime(source.get("received_at")), ingested_at=now,
                        updated_at=now,
                    )
                )
            self._insert_ignore(conn, LeadSource.__table__, {
                "fingerprint": fingerprint, "lead_id": canonical, "channel": source.get("channel"),
                "source_id": source_id, "campaign": source.get("campaign"),
                "utm": source.get("utm") or None,
                "received_at": parse_datetime(source.get("received_at")),
            })
        return CaptureWrite(
            lead_id=canonical,
            duplicate_of=by_email,
            account_id=account_id,
            account_owner=owner,
            account_matched_by=matched_by,
        )

    def _upsert_account(
        self, conn: Connection, company: Mapping[str, Any], now: datetime
    ) -> tuple[int | None, str | None, str | None]:
        name = (company.get("name") or "").strip()
        domain = (company.get("domain") or "").lower() or None
        if not name and not domain:
            return None, None, None
        key = (name_key(name) if name else (domain or ""))[:column_length(Account, "name_key")]
        row: Any = None
        matched_by = None
        if domain:
            row = conn.execute(
                select(Account.id, Account.owner_rep_id).where(Account.domain == domain)
            ).first()
            matched_by = "domain" if row else None
        if row is None and key:
            prefix = key.split(" ", 1)[0]
            candidates = conn.execute(
                select(Account.id, Account.owner_rep_id, Account.name_key, Account.domain)
                .where(Account.name_key.like(f"{prefix}%"))
                .limit(200)
            ).all()
            best = max(
                ((fuzz.ratio(key, c.name_key), c) for c in candidates
                 if not (domain and c.domain and c.domain != domain)),
                default=(0.0, None),
                key=lambda pair: pair[0],
            )
            if best[1] is not None and best[0] >= 92:
                row = best[1]
                matched_by = "name"
        if row is not None:
            return int(row.id), row.owner_rep_id, matched_by
        values = {
            "domain": domain, "name": name or domain, "name_key": key,
            "country": company.get("country"), "region": company.get("region"),
            "segment": company.get("segment"), "industry": company.get("industry"),
            "employees": company.get("employees"), "created_at": now,
        }
        new_id = self._insert_ignore_key(conn, Account.__table__, values)
        if new_id is None:  # another lead created this domain's account meanwhile
            row = conn.execute(
                select(Account.id, Account.owner_rep_id).where(Account.domain == domain)
            ).one()
            return int(row.id), row.owner_rep_id, "domain"
        return int(new_id), None, None

    def _upsert_contact(
        self, conn: Connection, contact: Mapping[str, Any], account_id: int | None
    ) -> int | None:
        email = (contact.get("email") or "").lower() or None
        fields = {k: contact.get(k) for k in ("phone", "first_name", "last_name", "title",
                                              "seniority", "department")}
        if email:  # insert first: a new contact costs one statement
            new_id = self._insert_ignore_key(conn, Contact.__table__,
                                             {"email": email, "account_id": account_id, **fields})
            if new_id is not None:
                return int(new_id)
            current = conn.execute(
                select(Contact.__table__).where(Contact.email == email)).mappings().one()
            fill = {k: v for k, v in fields.items() if v and not current[k]}
            if fill:
                conn.execute(update(Contact).where(Contact.id == current["id"]).values(**fill))
            return int(current["id"])
        if fields.get("phone"):
            found = conn.execute(
                select(Contact.id).where(Contact.phone == fields["phone"])).scalar()
            if found is not None:
                return int(found)
        result = conn.execute(insert(Contact).values(email=None, account_id=account_id, **fields))
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else None

    def update_lead(self, lead_id: str, now: datetime, **values: Any) -> None:
        with self.transaction() as conn:
            conn.execute(update(Lead).where(Lead.id == lead_id).values(updated_at=now, **values))

    def get_lead(self, lead_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(Lead.__table__).where(Lead.id == lead_id)).mappings().first()
        return dict(row) if row else None

    def list_leads(self, *, status: str | None = None, tier: str | None = None,
                   rep: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, cursor: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        """A page's leads (`lead_page`), newest first."""
        return self.reads.list_leads(status=status, tier=tier, rep=rep, since=since,
                                     until=until, cursor=cursor, limit=limit)

    def lead_page(self, *, status: str | None = None, tier: str | None = None,
                  rep: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, cursor: str | None = None,
                  limit: int = 50) -> LeadPage:
        """A page of leads and the next page's cursor: `CrmReader.lead_page`, the one SQL
        `leads list` and GET /leads run."""
        return self.reads.lead_page(status=status, tier=tier, rep=rep, since=since,
                                    until=until, cursor=cursor, limit=limit)

    def status_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(Lead.status, func.count()).group_by(Lead.status)).all()
        return {str(s): int(n) for s, n in rows}
