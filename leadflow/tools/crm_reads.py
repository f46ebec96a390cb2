"""The CRM reads that only show what is stored (the newest leads, the queue counts, a queue's
open items) on a plain DB-API connection: sqlite3 or psycopg, no SQLAlchemy.

`leadflow leads list`, `queues` and `review list` open the CRM with `open_reader`, which
reaches the database through its driver when the schema is at the head revision: importing
SQLAlchemy and declaring the ORM schema took more than half of their start-up. `CrmStore`
answers the same reads through a `CrmReader` on its engine's connections, so the SQL and the
row decoding exist once, here. The module lives beside `tools/crm/`, not in it: importing
that package imports the store, and with it SQLAlchemy.

Rows are what SQLAlchemy's table types return: JSON columns decoded, datetimes aware UTC
(`tools/crm/schema.py` declares the tables; tests/integration/test_crm_reads.py checks that
the columns below match them and that the rows equal SQLAlchemy's).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadflow.db import at_numbered_head, is_postgres, libpq_conninfo, sqlite_file

# The names stored in the CRM. rules_review: business-rule conflicts for the business-rules
# admin (the lead went on with the safest default; nothing waits on it).
INTAKE = "intake"  # accepted items not yet settled (API, distributed runs)
QUEUES = ("manual_review", "nurture", "marketing", "retry_later", "rules_review", INTAKE)
STATUSES = ("routed", "nurture", "marketing", "manual_review", "escalated", "awaiting_followup")

# The columns the reads return, in the tables' order (schema.Lead, schema.QueueItem).
LEAD_COLUMNS = ("id", "email_key", "contact_id", "account_id", "status", "status_reason",
                "tier", "bant_total", "channel", "record", "outcome", "received_at",
                "ingested_at", "updated_at", "erased_at")
QUEUE_ITEM_COLUMNS = ("id", "queue", "lead_id", "reason", "payload", "created_at",
                      "resolved_at")
JSON_COLUMNS = frozenset({"record", "outcome", "payload"})
UTC_COLUMNS = frozenset({"received_at", "ingested_at", "updated_at", "erased_at",
                         "created_at", "resolved_at"})
SQLITE_BUSY_TIMEOUT_S = 10.0  # as the store's connections wait (db.use_wal's busy_timeout)


def as_utc(value: datetime) -> datetime:
    """A stored datetime as aware UTC: SQLite keeps them naive (in UTC), PostgreSQL in the
    session's time zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CrmUnavailable(Exception):
    """The database did not open; its cause is the driver's error."""


class CrmReader:
    """The light reads, each on a connection of its own from `connection()` (a context
    manager yielding a DB-API connection: sqlite3's, psycopg's, or an engine's raw one)."""

    def __init__(self, connection: Callable[[], AbstractContextManager[Any]], *,
                 postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres

    def list_leads(self, *, status: str | None = None, tier: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        """The newest leads first (by ingestion), optionally of one status and/or tier."""
        where = [(column, value) for column, value in (("status", status), ("tier", tier))
                 if value]
        sql = (f"SELECT {', '.join(LEAD_COLUMNS)} FROM leads"
               + (" WHERE " + " AND ".join(f"{column} = ?" for column, _ in where)
                  if where else "")
               + " ORDER BY ingested_at DESC LIMIT ?")
        return self._rows(LEAD_COLUMNS, sql, [value for _, value in where] + [limit])

    def queue_counts(self) -> dict[str, int]:
        """Open items per queue: every known queue (0 when empty), then any other found."""
        counts = dict.fromkeys(QUEUES, 0)
        with self._cursor() as cursor:
            cursor.execute("SELECT queue, count(*) FROM queue_items "
                           "WHERE resolved_at IS NULL GROUP BY queue")
            counts.update({str(queue): int(n) for queue, n in cursor.fetchall()})
        return counts

    def queue_items(self, queue: str, limit: int = 50) -> list[dict[str, Any]]:
        """The queue's open items, oldest first."""
        sql = (f"SELECT {', '.join(QUEUE_ITEM_COLUMNS)} FROM queue_items "
               "WHERE queue = ? AND resolved_at IS NULL ORDER BY created_at LIMIT ?")
        return self._rows(QUEUE_ITEM_COLUMNS, sql, [queue, limit])

    def _rows(self, columns: Sequence[str], sql: str, params: Sequence[Any]
              ) -> list[dict[str, Any]]:
        with self._cursor() as cursor:
            # `?` (sqlite3's placeholder) is psycopg's `%s`; no statement here holds a `%`
            cursor.execute(sql.replace("?", "%s") if self.postgres else sql, params)
            return [{name: self._decoded(name, value) for name, value in zip(columns, row,
                                                                              strict=True)}
                    for row in cursor.fetchall()]

    def _decoded(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in JSON_COLUMNS and not self.postgres:  # psycopg decodes JSON itself
            return json.loads(value)
        if column in UTC_COLUMNS:
            return as_utc(value if isinstance(value, datetime) else
                          datetime.fromisoformat(value))
        return value

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self.connection() as conn:
            cursor = conn.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
                conn.rollback()  # a read's transaction ends with it (psycopg opens one)


def open_reader(url: str) -> CrmReader | None:
    """A reader on the CRM at `url` (a SQLite file or a PostgreSQL database) when its schema
    is at the head revision; None when only `CrmStore` can open it: a CRM not created yet or
    to migrate (the store does, through Alembic), or a URL not of those two kinds. Raises
    `CrmUnavailable` when the database is there to open and does not open."""
    path = sqlite_file(url)
    if path is not None:
        if not Path(path).is_file():
            return None
        reader = CrmReader(lambda: _sqlite(path), postgres=False)
        driver_error: type[Exception] = sqlite3.Error
    elif is_postgres(url):
        import psycopg  # only for a PostgreSQL CRM (it loads asyncio, among others)

        conninfo = libpq_conninfo(url)
        reader = CrmReader(lambda: _postgres(conninfo), postgres=True)
        driver_error = psycopg.Error
    else:
        return None
    try:
        with reader.connection() as conn:
            at_head = at_numbered_head(conn, postgres=reader.postgres)
    except driver_error as exc:
        raise CrmUnavailable(str(exc)) from exc
    return reader if at_head is not None else None


@contextmanager
def _sqlite(path: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _postgres(conninfo: str) -> Iterator[Any]:
    import psycopg

    conn = psycopg.connect(conninfo)
    try:
        yield conn
    finally:
        conn.close()
