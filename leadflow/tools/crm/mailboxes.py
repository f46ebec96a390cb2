"""Where `leadflow watch` is in each mailbox it watches: the mailbox's UIDVALIDITY and the
last UID whose item is durable in the intake queue (`MailboxCursor`).

The watcher writes the cursor only after the intake of every message up to it committed,
so a crash between the two re-reads a message whose intake is already there (a no-op, the
lead id is the message's fingerprint) and never skips one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from leadflow.tools.crm.base import StoreBase
from leadflow.tools.crm.schema import MailboxCursor


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


class MailboxStore(StoreBase):
    """Read and move a watched mailbox's cursor."""

    def mailbox_cursor(self, mailbox: str) -> Cursor | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(MailboxCursor.uidvalidity, MailboxCursor.last_uid).where(
                MailboxCursor.mailbox == mailbox)).first()
        return None if row is None else Cursor(int(row.uidvalidity), int(row.last_uid))

    def save_mailbox_cursor(self, mailbox: str, uidvalidity: int, last_uid: int,
                            now: datetime) -> None:
        """Move the cursor forward (never back within one UIDVALIDITY); a new UIDVALIDITY
        replaces the old cursor: the mailbox's UIDs were renumbered."""
        with self.transaction() as conn:
            if self._insert_ignore(conn, MailboxCursor.__table__, {
                    "mailbox": mailbox, "uidvalidity": uidvalidity, "last_uid": last_uid,
                    "updated_at": now}):
                return
            row = conn.execute(select(MailboxCursor.uidvalidity, MailboxCursor.last_uid).where(
                MailboxCursor.mailbox == mailbox).with_for_update()).one()
            if int(row.uidvalidity) == uidvalidity and int(row.last_uid) >= last_uid:
                return
            conn.execute(update(MailboxCursor).where(MailboxCursor.mailbox == mailbox).values(
                uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now))
