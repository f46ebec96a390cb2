"""Lead leases: a lead's thread runs in one place at a time, on every path.

Two `leadflow run`s of one file, or two API workers draining one intake queue, would
otherwise run one thread side by side and trip over each other's half-written state. A
runner takes the lead's lease (a row in the CRM, so SQLite and PostgreSQL both have it),
renews it while it works and deletes it when done; a second runner waits, then reads the
first one's result from the checkpoint. A lease whose holder died expires (LEADFLOW_LEAD_
LEASE_SECONDS), or at once when the holder was a process on this host that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from leadflow.settings import WorkerSettings
from leadflow.tools.crm.base import StoreBase, dialect_insert
from leadflow.tools.crm.schema import LeadLease

# How often a waiting runner looks again (doubling up to the cap).
POLL_FIRST_S = 0.05
POLL_MAX_S = 1.0


class LeaseStore(StoreBase):
    """Take, renew and give back a lead's lease. Times are wall-clock UTC, never the
    run's injected clock: a lease coordinates real processes."""

    def acquire_lease(self, lead_id: str, holder: str, ttl_s: float) -> bool:
        """Take the lease when nobody holds it or its holder's time ran out."""
        now = datetime.now(UTC)
        table = LeadLease.__table__
        with self.transaction() as conn:
            take = dialect_insert(conn)(table).values(
                lead_id=lead_id, holder=holder, expires_at=now + timedelta(seconds=ttl_s))
            take = take.on_conflict_do_update(
                index_elements=[table.c.lead_id],
                set_={"holder": take.excluded.holder, "expires_at": take.excluded.expires_at},
                where=table.c.expires_at < now)
            row = conn.execute(take.returning(table.c.holder)).first()
        return row is not None and row[0] == holder

    def lease_holder(self, lead_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(LeadLease.holder).where(
                LeadLease.lead_id == lead_id)).scalar()

    def take_over_lease(self, lead_id: str, dead: str, holder: str, ttl_s: float) -> bool:
        """Take a lease from a holder known to be dead (only if it still holds it)."""
        with self.transaction() as conn:
            moved = conn.execute(update(LeadLease).where(
                LeadLease.lead_id == lead_id, LeadLease.holder == dead).values(
                holder=holder, expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s)))
            return bool(moved.rowcount)

    def renew_lease(self, lead_id: str, holder: str, ttl_s: float) -> bool:
        with self.transaction() as conn:
            renewed = conn.execute(update(LeadLease).where(
                LeadLease.lead_id == lead_id, LeadLease.holder == holder).values(
                expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s)))
            return bool(renewed.rowcount)

    def release_lease(self, lead_id: str, holder: str) -> None:
        with self.transaction() as conn:
            conn.execute(delete(LeadLease).where(
                LeadLease.lead_id == lead_id, LeadLease.holder == holder))


def new_holder() -> str:
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_is_gone(holder: str) -> bool:
    """True only for a holder on this host whose process no longer exists."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3:
        return False
    host, pid_text, _token = parts
    if host != socket.gethostname()[:120] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def _take(store: LeaseStore, lead_id: str, holder: str, ttl_s: float) -> bool:
    if store.acquire_lease(lead_id, holder, ttl_s):
        return True
    current = store.lease_holder(lead_id)
    if current is None:  # released between our two reads: try again at once
        return store.acquire_lease(lead_id, holder, ttl_s)
    return holder_is_gone(current) and store.take_over_lease(lead_id, current, holder, ttl_s)


@contextlib.asynccontextmanager
async def held_lead(store: LeaseStore, lead_id: str,
                    ttl_s: float | None = None) -> AsyncIterator[str]:
    """Hold `lead_id`'s lease for the body (waiting for it first), renewed every third of
    its time to live; yields the holder id."""
    ttl = ttl_s if ttl_s is not None else WorkerSettings.from_env().lead_lease_s
    holder = new_holder()
    wait = POLL_FIRST_S
    while not await asyncio.to_thread(_take, store, lead_id, holder, ttl):
        await asyncio.sleep(wait)
        wait = min(wait * 2, POLL_MAX_S)

    async def keep() -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            await asyncio.to_thread(store.renew_lease, lead_id, holder, ttl)

    keeper = asyncio.create_task(keep())
    try:
        yield holder
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await keeper
        await asyncio.to_thread(store.release_lease, lead_id, holder)
