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

import base64
import binascii
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
                "ingested_at", "updated_at", "erased_at", "rep_id")
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


# A page of `leads list` / GET /leads: newest first by (ingested_at, id), the id breaking
# ties, and the next page starts after the last lead shown (a keyset, not OFFSET: page 5000
# reads as few index entries as page 1). The cursor names that last lead: its ingested_at
# in microseconds since 1970 (UTC), a dot, and its id in base64url (UTF-8, unpadded). The
# pattern admits exactly the strings that decode, so the API refuses any other with a 422
# before it reaches the database, and documents the shape in its OpenAPI schema.
CURSOR_PATTERN = r"^[0-9]{1,16}\.(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$"
CURSOR_MAX_LENGTH = 240  # a 40-character id of 4-byte characters is 216 in base64
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# `--since 7d`: hours, days or weeks back from now
RELATIVE_PATTERN = r"^[0-9]{1,4}[hdw]$"
_RELATIVE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[Tt ])")


# The leads' page indexes: each combination of the filters' columns, then ingested_at and id
# (ix_leads_arrival: an unfiltered page, or a time range alone). tools/crm/schema.py declares
# them from here, and `page_query` names the one to read on SQLite (`INDEXED BY`): its planner
# may take a shorter one whose range looks narrower, and read every lead of that one.
PAGE_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_leads_arrival": (), "ix_leads_status_arrival": ("status",),
    "ix_leads_tier_arrival": ("tier",), "ix_leads_rep_arrival": ("rep_id",),
    "ix_leads_status_tier_arrival": ("status", "tier"),
    "ix_leads_rep_status_arrival": ("rep_id", "status"),
    "ix_leads_rep_tier_arrival": ("rep_id", "tier"),
    "ix_leads_rep_status_tier_arrival": ("rep_id", "status", "tier")}
_PAGE_INDEX_OF = {frozenset(columns): name for name, columns in PAGE_INDEXES.items()}


class BadListing(ValueError):
    """A cursor or a date the page cannot start from; the message says which and why."""


def encode_cursor(ingested_at: datetime, lead_id: str) -> str:
    """The cursor of the page that follows the lead ingested at `ingested_at` with `lead_id`."""
    delta = as_utc(ingested_at) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    encoded = base64.urlsafe_b64encode(lead_id.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{micros}.{encoded}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(ingested_at, lead id) of the last lead of the page before; BadListing when `cursor`
    is not one `encode_cursor` could have written."""
    if not _CURSOR.match(cursor):
        raise BadListing(f"not a page cursor: {cursor[:60]!r} (use the one a page printed)")
    micros, encoded = cursor.split(".", 1)
    try:
        at = _EPOCH + timedelta(microseconds=int(micros))
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (OverflowError, binascii.Error) as exc:  # the pattern keeps both out; belt and braces
        raise BadListing(f"not a page cursor: {cursor[:60]!r}") from exc
    # any text is a position in the order; what no lead id can hold cannot reach the SQL
    return at, raw.decode("utf-8", "replace").replace("\x00", "")


def moment(value: str | date | datetime, *, now: datetime, end: bool = False,
           zoned: bool = False) -> datetime:
    """A --since/--until bound as aware UTC: an ISO datetime (no zone: UTC, as the CRM
    stores; `zoned`: the zone is required, as GET /leads documents RFC 3339), an ISO date
    (its midnight UTC; as `end`, the next midnight, so `--until 2026-12-01` takes in all of
    that day), or an age back from `now` (`36h`, `7d`, `2w`). BadListing for anything else.
    Bounds beyond what a datetime holds in UTC are clamped."""
    if isinstance(value, str):
        text = value.strip()
        if re.match(RELATIVE_PATTERN, text):
            return now - timedelta(**{_RELATIVE_UNITS[text[-1]]: int(text[:-1])})
        try:
            if not _ISO_DATE.match(text):  # not 20261101, which fromisoformat also reads
                raise ValueError(text)
            value = (date.fromisoformat(text) if len(text) == 10
                     else datetime.fromisoformat(re.sub("[Zz]$", "+00:00", text)))
        except ValueError:
            raise BadListing(f"not a date, a date and time, or an age like 7d: {text[:60]!r}"
                             ) from None
        if zoned and isinstance(value, datetime) and value.tzinfo is None:
            raise BadListing(f"a date and time needs its zone (Z, +01:00): {text[:60]!r}")
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end and value < date.max else value
        value = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 and 9999-12-31T23:00-05:00
        return datetime.min.replace(tzinfo=UTC) if value.year == 1 else \
            datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LeadPage:
    """A page of leads, newest first, and the cursor of the page after it (None: no more)."""

    leads: list[dict[str, Any]]
    next_cursor: str | None


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
                   rep: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, cursor: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        """The newest leads first (by ingestion): `lead_page`'s leads."""
        return self.lead_page(status=status, tier=tier, rep=rep, since=since, until=until,
                              cursor=cursor, limit=limit).leads

    def lead_page(self, *, status: str | None = None, tier: str | None = None,
                  rep: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, cursor: str | None = None,
                  limit: int = 50) -> LeadPage:
        """A page of leads, newest first (ingested_at, then id, descending): of one status,
        tier and/or current owner (`rep`, the assignment's rep), ingested at or after
        `since` and before `until`, after the lead `cursor` names (BadListing when it
        names none). Every combination of the three filters leads an index whose next
        columns are (ingested_at, id) (schema.PAGE_INDEXES), so the page reads `limit` + 1
        entries of one index in order: the one more tells whether there is a next page."""
        sql, params = self.page_query(status=status, tier=tier, rep=rep, since=since,
                                      until=until, cursor=cursor, limit=limit + 1)
        rows = self._rows(LEAD_COLUMNS, sql, params)
        if len(rows) <= limit:
            return LeadPage(rows, None)
        last = rows[limit - 1]
        return LeadPage(rows[:limit], encode_cursor(last["ingested_at"], last["id"]))

    def page_query(self, *, status: str | None, tier: str | None, rep: str | None,
                   since: datetime | None, until: datetime | None, cursor: str | None,
                   limit: int) -> tuple[str, list[Any]]:
        """`lead_page`'s SELECT (sqlite3's `?` placeholders) and its parameters."""
        where: list[tuple[str, tuple[Any, ...]]] = [
            (f"{column} = ?", (value,)) for column, value in
            (("status", status), ("tier", tier), ("rep_id", rep)) if value]
        if since is not None:
            where.append(("ingested_at >= ?", (self._when(since),)))
        if until is not None:
            where.append(("ingested_at < ?", (self._when(until),)))
        if cursor is not None:  # after the last lead shown: a row comparison, indexable
            at, lead_id = decode_cursor(cursor)
            where.append(("(ingested_at, id) < (?, ?)", (self._when(at), lead_id)))
        index = _PAGE_INDEX_OF[frozenset(column for column, value in
                                         (("status", status), ("tier", tier), ("rep_id", rep))
                                         if value)]
        sql = (f"SELECT {', '.join(LEAD_COLUMNS)} FROM leads"
               + ("" if self.postgres else f" INDEXED BY {index}")
               + (" WHERE " + " AND ".join(condition for condition, _ in where) if where
                  else "")
               + " ORDER BY ingested_at DESC, id DESC LIMIT ?")
        return sql, [*(p for _, params in where for p in params), limit]

    def _when(self, moment: datetime) -> Any:
        """A datetime as the column compares: timestamptz on PostgreSQL; on SQLite the text
        SQLAlchemy stores (UTC, fixed width, so text order is time order)."""
        utc = as_utc(moment)
        return utc if self.postgres else utc.replace(tzinfo=None).isoformat(
            sep=" ", timespec="microseconds")

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
